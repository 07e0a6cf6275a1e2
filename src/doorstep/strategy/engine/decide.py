"""From features to a decision: the stage, the rules that matched, the gates that failed, reasons.

One set of semantics, two renderings. `decisions_sql` turns a compiled strategy into one SELECT over
the features relation (any engine); `decide` evaluates the same parsed conditions in Python for one
account. Tests hold them equal.

- A rule matches when its condition is true (NULL is not true). A rule reading a model feature
  that is NULL (no scoring model yet) is skipped: it does not match, and as a gate it passes.
- The first override whose product/region/arm all fit the account replaces the base condition.
- A stage applies when one of its rules matches and all its gates pass. The first superseding
  stage that applies wins; otherwise the highest ladder stage that applies; otherwise `none`.
- triggers: every matched rule, in document order. blocked_by: every failed gate of a stage
  with a matched rule. Reasons: the matched rules of the chosen stage, then the failed gates of
  higher ladder stages (why the account is not there), or the `none` reason.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from doorstep.strategy.engine.document import LADDER, CompiledRule, Strategy, Text
from doorstep.strategy.engine.features import FEATURES, MODEL_FEATURES
from doorstep.strategy.engine.rules import Condition

_PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")
SEPARATOR = {"en": "; ", "zh": "；"}
MISSING = "—"


@dataclass(frozen=True)
class Decision:
    account_id: str
    stage: str
    previous_stage: str
    triggers: tuple[str, ...]
    blocked_by: tuple[str, ...]
    reasons_en: str
    reasons_zh: str
    arm: str


# --- Python ----------------------------------------------------------------------------------


def condition_for(rule: CompiledRule, row: dict) -> Condition:
    for override, condition in rule.overrides:
        if (
            (override.product is None or override.product == row["product"])
            and (override.region is None or override.region == row["region_code"])
            and (override.arm is None or override.arm == row["arm"])
        ):
            return condition
    return rule.base


def rule_result(rule: CompiledRule, row: dict) -> bool:
    """Matched (a rule) or passed (a gate), with the skip for missing model features."""
    condition = condition_for(rule, row)
    if any(row[name] is None for name in condition.features & MODEL_FEATURES):
        return rule.gate
    return condition.evaluator(row) is True


def render(text: str, row: dict) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        v = row[name]
        if v is None:
            return MISSING
        if FEATURES[name].kind == "money":
            return f"{Decimal(v):.2f}"
        return str(v)

    return _PLACEHOLDER.sub(value, text)


def stage_for(strategy: Strategy, row: dict) -> str:
    """The stage `decide` would choose, without the rest of the decision (its triggers, blocks
    and reasons): what explain's next change asks of hundreds of shifted rows."""
    return _chosen(strategy, {rule.id: rule_result(rule, row) for rule in strategy.rules})


def _chosen(strategy: Strategy, results: dict[str, bool]) -> str:
    applies = {}
    for stage in strategy.stages:
        rules = strategy.stage_rules(stage.id, gates=False)
        gates = strategy.stage_rules(stage.id, gates=True)
        applies[stage.id] = any(results[r.id] for r in rules) and all(results[g.id] for g in gates)
    chosen = next((s.id for s in strategy.stages if s.supersedes and applies[s.id]), None)
    if chosen is None:
        ladder = [s.id for s in strategy.stages if not s.supersedes and applies[s.id]]
        chosen = ladder[-1] if ladder else "none"
    return chosen


def decide(strategy: Strategy, row: dict) -> Decision:
    """The decision for one account's features (`row` holds every feature, `arm`, `previous_stage`)."""
    results = {rule.id: rule_result(rule, row) for rule in strategy.rules}
    chosen = _chosen(strategy, results)
    triggers = tuple(r.id for r in strategy.rules if not r.gate and results[r.id])
    blocked = tuple(
        g.id
        for g in strategy.rules
        if g.gate
        and not results[g.id]
        and any(results[r.id] for r in strategy.stage_rules(g.stage, gates=False))
    )
    texts = _reason_texts(strategy, chosen, results, blocked)
    return Decision(
        account_id=row["account_id"],
        stage=chosen,
        previous_stage=row["previous_stage"],
        triggers=triggers,
        blocked_by=blocked,
        reasons_en=SEPARATOR["en"].join(render(t.en, row) for t in texts),
        reasons_zh=SEPARATOR["zh"].join(render(t.zh, row) for t in texts),
        arm=row["arm"],
    )


def _higher_ladder_gates(strategy: Strategy, chosen: str) -> list[CompiledRule]:
    if chosen not in LADDER:
        return []
    return [
        g
        for g in strategy.rules
        if g.gate and g.stage in LADDER and LADDER.index(g.stage) > LADDER.index(chosen)
    ]


def _reason_texts(strategy, chosen, results, blocked) -> list[Text]:
    texts = [r.reason for r in strategy.stage_rules(chosen, gates=False) if results[r.id]]
    if chosen == "none":
        texts.append(strategy.document.none_reason)
    texts += [g.reason for g in _higher_ladder_gates(strategy, chosen) if g.id in blocked]
    return texts


# --- SQL -------------------------------------------------------------------------------------


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _render_sql(text: str, prefix: str) -> str:
    parts, last = [], 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > last:
            parts.append(_sql_string(text[last : match.start()]))
        name = match.group(1)
        parts.append(f"COALESCE(CAST({prefix}.{name} AS VARCHAR), '{MISSING}')")
        last = match.end()
    if last < len(text):
        parts.append(_sql_string(text[last:]))
    return " || ".join(parts) or "''"


def _condition_sql(condition: Condition, gate: bool, dialect: str, prefix: str) -> str:
    body = f"COALESCE({condition.sql(dialect, prefix)}, FALSE)"
    missing = sorted(condition.features & MODEL_FEATURES)
    if not missing:
        return f"({body})"
    any_null = " OR ".join(f"{prefix}.{name} IS NULL" for name in missing)
    return f"(({any_null}) OR {body})" if gate else f"(NOT ({any_null}) AND {body})"


def _rule_sql(rule: CompiledRule, dialect: str, prefix: str) -> str:
    base = _condition_sql(rule.base, rule.gate, dialect, prefix)
    if not rule.overrides:
        return base
    whens = []
    for override, condition in rule.overrides:
        scope = [
            f"{prefix}.{column} = {_sql_string(value)}"
            for column, value in (
                ("product", override.product),
                ("region_code", override.region),
                ("arm", override.arm),
            )
            if value is not None
        ]
        whens.append(
            f"WHEN {' AND '.join(scope)} THEN {_condition_sql(condition, rule.gate, dialect, prefix)}"
        )
    return f"(CASE {' '.join(whens)} ELSE {base} END)"


def _column(rule: CompiledRule) -> str:
    return "r_" + re.sub(r"[^a-z0-9_]", "_", rule.id)


def arm_sql(strategy: Strategy, bucket_column: str) -> str:
    whens, edge = [], 0
    for arm in strategy.document.arms[:-1]:
        edge += arm.share
        whens.append(f"WHEN {bucket_column} < {edge} THEN {_sql_string(arm.id)}")
    last = _sql_string(strategy.document.arms[-1].id)
    return f"CASE {' '.join(whens)} ELSE {last} END" if whens else last


def decisions_sql(strategy: Strategy, features: str, dialect: str) -> str:
    """One SELECT from the relation `features` (it must have `arm_bucket`, `previous_stage`)
    giving, per account: the features it reads plus stage, triggers, blocked_by, reasons_en,
    reasons_zh, arm."""
    rule_columns = ",\n           ".join(
        f"{_rule_sql(rule, dialect, 'x')} AS {_column(rule)}" for rule in strategy.rules
    )
    applies = {}
    for stage in strategy.stages:
        rules = " OR ".join(_column(r) for r in strategy.stage_rules(stage.id, gates=False))
        gates = [_column(g) for g in strategy.stage_rules(stage.id, gates=True)]
        applies[stage.id] = " AND ".join([f"({rules})", *gates])
    order = [s.id for s in strategy.stages if s.supersedes] + [
        s.id for s in reversed(strategy.stages) if not s.supersedes
    ]
    stage_case = (
        "CASE " + " ".join(f"WHEN {applies[s]} THEN '{s}'" for s in order) + " ELSE 'none' END"
    )
    triggers = ", ".join(
        f"CASE WHEN {_column(r)} THEN '{r.id}' END" for r in strategy.rules if not r.gate
    )
    blocked = (
        ", ".join(
            f"CASE WHEN NOT {_column(g)} AND ("
            + " OR ".join(_column(r) for r in strategy.stage_rules(g.stage, gates=False))
            + f") THEN '{g.id}' END"
            for g in strategy.rules
            if g.gate
        )
        or "NULL"
    )
    reasons = {}
    for lang in ("en", "zh"):
        pieces = []
        for stage in strategy.stages:
            for rule in strategy.stage_rules(stage.id, gates=False):
                text = _render_sql(getattr(rule.reason, lang), "s")
                pieces.append(
                    f"CASE WHEN s.stage = '{stage.id}' AND s.{_column(rule)} THEN {text} END"
                )
        none_text = _render_sql(getattr(strategy.document.none_reason, lang), "s")
        pieces.append(f"CASE WHEN s.stage = 'none' THEN {none_text} END")
        for gate in (g for g in strategy.rules if g.gate and g.stage in LADDER):
            lower = [s for s in LADDER if LADDER.index(s) < LADDER.index(gate.stage)]
            text = _render_sql(getattr(gate.reason, lang), "s")
            pieces.append(
                f"CASE WHEN s.stage IN ({', '.join(_sql_string(s) for s in lower)}) "
                f"AND POSITION(',{gate.id},' IN ',' || COALESCE(s.blocked_by, '') || ',') > 0 "
                f"THEN {text} END"
            )
        reasons[lang] = f"CONCAT_WS({_sql_string(SEPARATOR[lang])}, {', '.join(pieces)})"
    return f"""
WITH x AS (
    SELECT f.*, {arm_sql(strategy, "f.arm_bucket")} AS arm FROM {features} f
),
m AS (
    SELECT x.*,
           {rule_columns}
    FROM x
),
s AS (
    SELECT m.*,
           {stage_case} AS stage,
           NULLIF(CONCAT_WS(',', {triggers}), '') AS triggers,
           NULLIF(CONCAT_WS(',', {blocked}), '') AS blocked_by
    FROM m
)
SELECT s.*, {reasons["en"]} AS reasons_en, {reasons["zh"]} AS reasons_zh
FROM s
"""
