"""Rule conditions: SQL boolean expressions over the feature set, parsed by sqlglot.

Only a whitelist of node types is accepted, so a condition can read features and compare them,
nothing else: no subquery, no function call beyond COALESCE, no column outside `FEATURES`. The
same parsed tree is rendered as SQL for every engine and evaluated in Python for the real-time
path (`evaluate`), with SQL's three-valued logic, so both paths give the same answer.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import sqlglot
from sqlglot import exp

from doorstep.strategy.engine.features import FEATURES, MODEL_FEATURES


class RuleError(ValueError):
    """A condition that may not run. The message names the rule id and the position."""

    def __init__(self, rule_id: str, message: str, line: int | None = None, col: int | None = None):
        where = f" (line {line}, column {col})" if line is not None else ""
        super().__init__(f"rule {rule_id}{where}: {message}")
        self.rule_id = rule_id
        self.line = line
        self.col = col


_LOGIC = (exp.And, exp.Or, exp.Not, exp.Paren)
_COMPARE = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_ARITH = (exp.Add, exp.Sub, exp.Mul, exp.Neg)
_ALLOWED = (
    *_LOGIC,
    *_COMPARE,
    *_ARITH,
    exp.Between,
    exp.In,
    exp.Is,
    exp.Coalesce,
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
)
_NAMES = {
    exp.Select: "a subquery",
    exp.Subquery: "a subquery",
    exp.Exists: "a subquery",
    exp.Div: "division (compare products instead: a >= 2 * b)",
    exp.Cast: "a cast",
    exp.Star: "*",
    exp.Like: "LIKE",
}


def _position(node: exp.Expression) -> tuple[int | None, int | None]:
    for candidate in (node, *node.find_all(exp.Identifier)):
        meta = candidate.meta
        if "line" in meta:  # sqlglot's col is where the token ends; report where it starts
            return meta["line"], meta["col"] - (meta["end"] - meta["start"] if "end" in meta else 0)
    return None, None


@dataclass(frozen=True)
class Condition:
    """A checked condition: its text, parsed tree and the features it reads."""

    rule_id: str
    text: str
    tree: exp.Expression
    features: frozenset[str]

    @cached_property
    def evaluator(self) -> Callable[[dict], object]:
        """The condition as a function of a feature row (compile_tree), built on first use."""
        return compile_tree(self.tree)

    @cached_property
    def thresholds(self) -> dict[str, frozenset | None]:
        """Per feature read, the literals it is compared with (=, <>, <, <=, >, >=, BETWEEN, IN;
        IS NULL, none); None for a feature read any other way (in arithmetic, against another
        feature, inside COALESCE). Between two of its thresholds, a comparison of a feature that
        moves by one a day keeps its value: explain's next change looks at those days only."""
        found: dict[str, frozenset | None] = {}
        for column in self.tree.find_all(exp.Column):
            add_thresholds(found, column.name, _compared_literals(column))
        return found

    @property
    def uses_model(self) -> bool:
        return bool(self.features & MODEL_FEATURES)

    def sql(self, dialect: str, column_prefix: str = "") -> str:
        tree = self.tree.copy()
        if column_prefix:
            for column in tree.find_all(exp.Column):
                column.replace(exp.column(column.name, table=column_prefix))
        return tree.sql(dialect=dialect)


def add_thresholds(found: dict[str, frozenset | None], name: str, literals: frozenset | None):
    """Add a feature's literals to `found`; once read another way (None), it stays None."""
    known = found.get(name, frozenset())
    found[name] = None if literals is None or known is None else known | literals


def _compared_literals(column: exp.Column) -> frozenset | None:
    parent = column.parent
    if isinstance(parent, exp.Is):
        return frozenset()
    if isinstance(parent, _COMPARE):
        values = [_literal_value(parent.expression if parent.this is column else parent.this)]
    elif isinstance(parent, exp.Between) and parent.this is column:
        values = [_literal_value(parent.args["low"]), _literal_value(parent.args["high"])]
    elif isinstance(parent, exp.In) and parent.this is column:
        values = [_literal_value(option) for option in parent.expressions]
    else:
        return None
    return None if None in values else frozenset(values)


def _literal_value(node: exp.Expression) -> Decimal | str | None:
    """A literal's value (a number as Decimal); None for anything else."""
    if isinstance(node, exp.Neg):
        inner = _literal_value(node.this)
        return -inner if isinstance(inner, Decimal) else None
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else Decimal(node.this)
    return None


def parse_condition(rule_id: str, text: str) -> Condition:
    """Parse and check one condition; raise `RuleError` naming what is wrong and where."""
    try:
        tree = sqlglot.parse_one(text, read="postgres")
    except sqlglot.errors.ParseError as error:
        first = error.errors[0] if error.errors else {}
        raise RuleError(
            rule_id,
            f"cannot parse: {first.get('description', error)}",
            first.get("line"),
            first.get("col"),
        ) from None
    if tree is None:
        raise RuleError(rule_id, "empty condition")
    used = set()
    for node in tree.walk():
        if not isinstance(node, _ALLOWED):
            line, col = _position(node)
            what = next((name for t, name in _NAMES.items() if isinstance(node, t)), None)
            if what is None:
                what = (
                    f"function {node.sql(dialect='postgres').split('(')[0]}()"
                    if isinstance(node, exp.Func)
                    else f"{type(node).__name__} expression"
                )
            raise RuleError(rule_id, f"{what} is not allowed in a condition", line, col)
        if isinstance(node, exp.Column):
            line, col = _position(node)
            if node.table:
                raise RuleError(rule_id, f"qualified column {node.sql()} is not allowed", line, col)
            if node.name not in FEATURES:
                raise RuleError(rule_id, f"unknown feature {node.name!r}", line, col)
            used.add(node.name)
        if isinstance(node, exp.Is) and not isinstance(node.expression, exp.Null):
            raise RuleError(rule_id, "IS may only test for NULL", *_position(node))
        if isinstance(node, exp.In) and (node.args.get("query") or node.args.get("field")):
            where = _position(node.args.get("query") or node)
            raise RuleError(rule_id, "a subquery is not allowed in a condition", *where)
    _check_types(rule_id, tree)
    return Condition(rule_id, text, tree, frozenset(used))


def _kind(node: exp.Expression) -> str | None:
    """The value kind of an operand: number, text, bool, or None when it cannot be told."""
    if isinstance(node, exp.Paren):
        return _kind(node.this)
    if isinstance(node, exp.Column):
        kind = FEATURES[node.name].kind
        return {"int": "number", "money": "number", "score": "number"}.get(kind, kind)
    if isinstance(node, exp.Literal):
        return "text" if node.is_string else "number"
    if isinstance(node, exp.Boolean):
        return "bool"
    if isinstance(node, (*_ARITH,)):
        return "number"
    if isinstance(node, (*_COMPARE, exp.And, exp.Or, exp.Not, exp.Between, exp.In, exp.Is)):
        return "bool"
    if isinstance(node, exp.Coalesce):
        return _kind(node.this)
    return None


def _check_types(rule_id: str, tree: exp.Expression) -> None:
    for node in tree.walk():
        if isinstance(node, _COMPARE):
            left, right = _kind(node.this), _kind(node.expression)
            if left and right and left != right:
                raise RuleError(
                    rule_id, f"cannot compare {left} with {right} in {node.sql()}", *_position(node)
                )
            if "text" in (left, right) and not isinstance(node, (exp.EQ, exp.NEQ)):
                raise RuleError(
                    rule_id,
                    f"text can only be compared with = or <> in {node.sql()}",
                    *_position(node),
                )
        if isinstance(node, _ARITH):
            for operand in (node.this, node.args.get("expression")):
                if operand is not None and _kind(operand) not in ("number", None):
                    raise RuleError(rule_id, f"arithmetic on {operand.sql()}", *_position(node))
    if _kind(tree) not in ("bool", None):
        raise RuleError(rule_id, f"the condition must be true or false, not {tree.sql()}")


# --- evaluation with SQL's three-valued logic -------------------------------------------------


def evaluate(tree: exp.Expression, row: dict):
    """The value of `tree` for one account's features, NULL as None, exactly as SQL computes it."""
    return compile_tree(tree)(row)


def compile_tree(tree: exp.Expression) -> Callable[[dict], object]:
    """`tree` as a Python function of a feature row, with SQL's three-valued logic (NULL as None).

    Built once per condition (`Condition.evaluator`): the real-time path asks the same conditions
    for hundreds of shifted rows per account (explain's next change), and walking the sqlglot tree
    node by node each time was most of a case view's time."""
    match tree:
        case exp.Paren():
            return compile_tree(tree.this)
        case exp.Column():
            name = tree.name
            return lambda row: row[name]
        case exp.Literal():
            text = tree.this
            if tree.is_string:
                value = text
            else:
                value = Decimal(text) if any(c in text for c in ".eE") else int(text)
            return lambda row: value
        case exp.Boolean():
            flag = tree.this
            return lambda row: flag
        case exp.Null():
            return lambda row: None
        case exp.And():
            a, b = compile_tree(tree.this), compile_tree(tree.expression)
            return lambda row: evaluate_and(a(row), b(row))
        case exp.Or():
            a, b = compile_tree(tree.this), compile_tree(tree.expression)
            return lambda row: _or(a(row), b(row))
        case exp.Not():
            inner = compile_tree(tree.this)
            return lambda row: _not(inner(row))
        case exp.Is():
            inner = compile_tree(tree.this)
            return lambda row: inner(row) is None
        case exp.Neg():
            inner = compile_tree(tree.this)
            return lambda row: _neg(inner(row))
        case exp.Between():
            value = compile_tree(tree.this)
            low, high = compile_tree(tree.args["low"]), compile_tree(tree.args["high"])
            return lambda row: _between(value(row), low(row), high(row))
        case exp.In():
            value = compile_tree(tree.this)
            options = [compile_tree(option) for option in tree.expressions]
            return lambda row: _in(value(row), options, row)
        case exp.Coalesce():
            operands = [compile_tree(o) for o in (tree.this, *tree.expressions)]
            return lambda row: _coalesce(operands, row)
    left, right = compile_tree(tree.this), compile_tree(tree.expression)
    if isinstance(tree, _ARITH):
        arith = _ARITH_OPS[type(tree)]
        return lambda row: _arith(arith, left(row), right(row))
    op = {exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}[
        type(tree)
    ]
    return lambda row: _cmp(left(row), right(row), op)


_ARITH_OPS = {exp.Add: operator.add, exp.Sub: operator.sub, exp.Mul: operator.mul}


def _or(a, b):
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _not(value):
    return None if value is None else not value


def _neg(value):
    return None if value is None else -value


def _between(value, low, high):
    return evaluate_and(_cmp(value, low, ">="), _cmp(value, high, "<="))


def _in(value, options, row):
    if value is None:
        return None
    found = [option(row) for option in options]
    if value in [o for o in found if o is not None]:
        return True
    return None if None in found else False


def _coalesce(operands, row):
    for operand in operands:
        value = operand(row)
        if value is not None:
            return value
    return None


def _arith(op, left, right):
    return None if left is None or right is None else op(left, right)


def evaluate_and(a, b):
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _cmp(left, right, op: str):
    if left is None or right is None:
        return None
    return {
        "=": left == right,
        "<>": left != right,
        ">": left > right,
        ">=": left >= right,
        "<": left < right,
        "<=": left <= right,
    }[op]
