"""Which actions a decision plans today, by each stage's cadence (set-based SQL and Python)."""

from doorstep.strategy.engine.document import Strategy

# The call queue's order (console/calls.py): amount overdue × a risk weight read from days past
# due, the deeper the riskier. (dpd up to, weight in tenths); the last applies beyond.
RISK_BY_DPD = ((30, 3), (60, 5), (90, 7), (None, 9))


def priority_of(dpd: int, overdue_cents: int) -> int:
    """A planned action's priority: overdue cents × the risk weight in tenths (an integer, so
    ties order the same on every engine)."""
    weight = next(w for limit, w in RISK_BY_DPD if limit is None or dpd <= limit)
    return overdue_cents * weight


def priority_sql(prefix: str) -> str:
    """`priority_of` over a decisions relation's dpd and overdue_cents."""
    cases = " ".join(
        f"WHEN {prefix}.dpd <= {limit} THEN {weight}" for limit, weight in RISK_BY_DPD if limit
    )
    return f"CAST({prefix}.overdue_cents AS BIGINT) * CASE {cases} ELSE {RISK_BY_DPD[-1][1]} END"


def _due_sql(action, prefix: str) -> str:
    if action.cadence == "on_entry":
        return f"{prefix}.previous_stage <> {prefix}.stage"
    if action.cadence == "on_dpd":
        return f"{prefix}.dpd IN ({', '.join(str(d) for d in action.days)})"
    return "TRUE"


def actions_sql(strategy: Strategy, decisions: str) -> str | None:
    """SELECT account_id, stage, kind, channel, template, priority for every action due; None if
    none."""
    parts = [
        f"SELECT d.account_id, '{stage.id}' AS stage, '{a.kind}' AS kind, '{a.channel}' AS channel,"
        f" '{a.template}' AS template, {priority_sql('d')} AS priority FROM {decisions} d"
        f" WHERE d.stage = '{stage.id}' AND {_due_sql(a, 'd')}"
        for stage in strategy.stages
        for a in stage.actions
    ]
    return "\nUNION ALL\n".join(parts) if parts else None


def due_actions(strategy: Strategy, *, stage: str, previous_stage: str, dpd: int) -> list[tuple]:
    """(kind, channel, template) of every action due for one decision."""
    due = []
    for s in strategy.stages:
        if s.id != stage:
            continue
        for a in s.actions:
            if (
                (a.cadence == "on_entry" and previous_stage != stage)
                or (a.cadence == "on_dpd" and dpd in a.days)
                or a.cadence == "daily"
            ):
                due.append((a.kind, a.channel, a.template))
    return due
