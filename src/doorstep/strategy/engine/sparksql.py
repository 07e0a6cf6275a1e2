"""The strategy's SQL (written for DuckDB) in Spark's dialect, by sqlglot.

sqlglot translates most of it as it stands (casts, window frames, NULL ordering, POSITION). One
difference it cannot see without types: DATE - DATE is a whole number of days in DuckDB and
PostgreSQL but an interval in Spark. So the statement is qualified and its types inferred from the
relations' schema, and every subtraction of two dates becomes DATEDIFF. DATE - INTEGER means the
same in all three and is left alone. The arm hash is written for Spark by `featuresql` itself
(a hex string cast to an integer is NULL or an error in Spark).
"""

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

# Relation -> column -> SQL type, in the dialect the types are named in.
Schema = dict[str, dict[str, str]]


def to_spark(sql: str, schema: Schema, *, read: str = "duckdb", types: str = "duckdb") -> str:
    """`sql` (in `read`'s dialect) as Spark SQL; `schema` gives every relation it reads, with
    types named in the `types` dialect."""
    tree = sqlglot.parse_one(sql, read=read)
    mapping = MappingSchema(schema, dialect=types)
    tree = qualify(tree, schema=mapping, dialect=read)
    tree = annotate_types(tree, schema=mapping, dialect=read)
    for sub in list(tree.find_all(exp.Sub)):
        if _is_date(sub.this) and _is_date(sub.expression):
            sub.replace(exp.DateDiff(this=sub.this.copy(), expression=sub.expression.copy()))
    # Qualifying writes `t.a AS a` for every bare column. Spark 4.3's optimizer
    # (RemoveRedundantAliases) then turns the features statement into an unresolved plan and
    # refuses it (PLAN_VALIDATION_FAILED_RULE_IN_BATCH); without those aliases it does not.
    for alias in list(tree.find_all(exp.Alias)):
        if isinstance(alias.this, exp.Column) and alias.this.name == alias.alias:
            alias.replace(alias.this.copy())
    return tree.sql(dialect="spark")


def _is_date(node: exp.Expression) -> bool:
    return node.type is not None and node.type.is_type(exp.DataType.Type.DATE)
