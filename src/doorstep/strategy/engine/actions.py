"""Which actions a decision plans today, by each stage's cadence (set-based SQL and Python)."""

from doorstep.strategy.engine.document import Strategy


def _due_sql(action, prefix: str) -> str:
    if action.cadence == "on_entry":
        return f"{prefix}.previous_stage <> {prefix}.stage"
    if action.cadence == "on_dpd":
        return f"{prefix}.dpd IN ({', '.join(str(d) for d in action.days)})"
    return "TRUE"


def actions_sql(strategy: Strategy, decisions: str) -> str | None:
    """SELECT account_id, stage, kind, channel, template for every action due; None if none."""
    parts = [
        f"SELECT d.account_id, '{stage.id}' AS stage, '{a.kind}' AS kind, '{a.channel}' AS channel,"
        f" '{a.template}' AS template FROM {decisions} d"
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
