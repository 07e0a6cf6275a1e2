"""The strategy's background jobs (Django's tasks API through django-tasks; run by `doorstep
db_worker`, docs/operations.md): the nightly run and the day's planned messages. Arguments are
JSON (dates as ISO text); each job calls one domain function, and each is safe to run again after
a worker died in it: the nightly run replaces its date's results, sending skips what is done."""

from dataclasses import asdict
from datetime import date

from django.utils import timezone
from django_tasks import task

from doorstep.strategy import domain, sending
from doorstep.strategy.enums import Engine


@task()
def nightly(as_of: str, engine: str = Engine.DUCKDB, by: str = "task:nightly") -> dict:
    """`doorstep nightly --as-of DATE --enqueue`: decide every account as of the date."""
    result = domain.run_nightly(date.fromisoformat(as_of), engine=engine, by=by)
    return {
        "as_of": as_of,
        "engine": result.engine,
        "strategy": result.strategy,
        "accounts": result.accounts,
        "actions": result.actions,
        "seconds": result.seconds,
        "run": result.run_id,
    }


@task()
def send_planned(day: str | None = None, by: str = "task:send") -> dict:
    """`doorstep send --day DATE --enqueue`: the day's planned messages through the guard and out
    (the day in the lender's zone when none is given)."""
    when = date.fromisoformat(day) if day else timezone.localdate()
    return asdict(sending.send_planned_messages(when, by=by, now=timezone.now())) | {
        "day": when.isoformat()
    }
