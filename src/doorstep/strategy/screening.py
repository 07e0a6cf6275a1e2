"""The nightly run's planned messages and call tasks, screened by the compliance guard at once.

Screening at planning time keeps a refused action out of tomorrow's queues and records why;
sending still asks the guard again (compliance.domain.authorize) at the moment it happens, since a
payment or a dispute in the morning changes the answer.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
from django.conf import settings
from django.db import connection

from doorstep.compliance.domain import screen
from doorstep.ledger.enums import AccountStatus
from doorstep.strategy.enums import ActionKind, ActionStatus
from doorstep.strategy.models import PlannedAction

SCREENED = (ActionKind.MESSAGE, ActionKind.CALL_TASK)
PURPOSE = {ActionKind.MESSAGE: "reminder", ActionKind.CALL_TASK: "collection"}


def screen_planned_actions(as_of: date, *, by: str, now: datetime | None = None) -> dict[str, int]:
    """Refuse what the guard refuses among the date's planned messages and call tasks (to be sent
    the next day). Side effects, in one transaction: those actions marked refused with the rule;
    the guard's Refusal rows and audit entry. Returns refused counts by rule."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.account_id, a.borrower_id, p.kind, p.channel, p.template, "
            "r.time_zone, a.status, b.language "
            "FROM strategy_plannedaction p "
            "JOIN ledger_account a ON a.id = p.account_id "
            "JOIN ledger_borrower b ON b.id = a.borrower_id "
            "JOIN ledger_region r ON r.code = b.region_id "
            "WHERE p.as_of = %s AND p.status = %s AND p.kind IN (%s, %s) ORDER BY p.id",
            [as_of, ActionStatus.PLANNED, *SCREENED],
        )
        rows = cursor.fetchall()
    if not rows:
        return {}
    send_day = as_of + timedelta(days=1)
    when = {}
    for _, _, _, kind, _, _, zone, _, _ in rows:
        if (kind, zone) not in when:
            hh, mm = (int(v) for v in settings.DOORSTEP_SEND_TIMES[kind].split(":"))
            when[kind, zone] = datetime.combine(send_day, time(hh, mm), ZoneInfo(zone))
    table = pa.table(
        {
            "seq": pa.array([r[0] for r in rows], pa.int64()),
            "account_id": [r[1] for r in rows],
            "borrower_id": [r[2] for r in rows],
            "channel": [r[4] for r in rows],
            "purpose": [PURPOSE[r[3]] for r in rows],
            "template": [r[5] for r in rows],
            "planned_at": pa.array([when[r[3], r[6]] for r in rows], pa.timestamp("us", tz="UTC")),
            "third_party_id": pa.array([None] * len(rows), pa.string()),
            "time_zone": [r[6] for r in rows],
            "settled": [r[7] == AccountStatus.SETTLED for r in rows],
            "language": [r[8] for r in rows],
        }
    )
    refused: dict[str, list[int]] = {}

    def mark_refused(rule_of: dict[int, str]) -> None:
        # Inside the transaction that records the guard's refusals: a run killed between the two
        # left the actions planned, and its re-run refused (and recorded) them a second time.
        for seq, rule in rule_of.items():
            refused.setdefault(rule, []).append(seq)
        for rule, ids in refused.items():
            for start in range(0, len(ids), 5000):
                PlannedAction.objects.filter(pk__in=ids[start : start + 5000]).update(
                    status=ActionStatus.REFUSED, refused_rule=rule
                )

    screen(table, actor=by, now=now, with_refusals=mark_refused)
    return {rule: len(ids) for rule, ids in refused.items()}
