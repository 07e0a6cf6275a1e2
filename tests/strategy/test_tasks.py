"""The nightly run and the day's sending as background jobs: enqueued from the command line, run
by the database worker, with the same results as the synchronous commands."""

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tasks_db.models import DBTaskResult

from doorstep.contact.models import OutboundMessage
from doorstep.strategy.models import Decision, NightlyRun, PlannedAction
from tests.strategy.test_nightly import AS_OF, small_portfolio, state
from tests.strategy.test_sending import MORNING, TOMORROW, planned  # noqa: F401 (fixture)


@pytest.mark.django_db(transaction=True)
def test_the_nightly_run_enqueued_from_the_cli_runs_in_the_worker(tmp_path, run_worker, capsys):
    small_portfolio(tmp_path)
    call_command("nightly", "--as-of", AS_OF.isoformat(), "--enqueue", "--by", "ops")
    job = DBTaskResult.objects.get()
    assert f"task {job.id}" in capsys.readouterr().out
    assert (job.task_path, job.args_kwargs) == (
        "doorstep.strategy.tasks.nightly",
        {"args": [AS_OF.isoformat()], "kwargs": {"engine": "duckdb", "by": "ops"}},
    )
    assert Decision.objects.count() == 0  # nothing until the worker runs it

    run_worker()

    job.refresh_from_db()
    run = NightlyRun.objects.get()
    assert job.status == "SUCCESSFUL"
    assert job.return_value == {
        "as_of": AS_OF.isoformat(), "engine": "duckdb", "strategy": "default@1",
        "accounts": 4, "actions": 4, "seconds": run.seconds, "run": run.pk,
    }  # fmt: skip
    assert (run.status, run.started_by) == ("done", "ops")
    in_the_worker = state()
    call_command("nightly", "--as-of", AS_OF.isoformat())  # the synchronous command, again
    assert state() == in_the_worker


@pytest.mark.django_db
def test_enqueueing_refuses_a_dry_run_or_an_engine_the_database_cannot_run(tmp_path):
    with pytest.raises(CommandError, match="--enqueue runs the active strategy"):
        call_command("nightly", "--as-of", AS_OF.isoformat(), "--enqueue", "--dry-run")
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="the postgres engine runs in place"):
            call_command("nightly", "--as-of", AS_OF.isoformat(), "--enqueue", "--engine",
                         "postgres")  # fmt: skip
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_days_messages_enqueued_from_the_cli_go_out_through_the_worker(planned, run_worker):  # noqa: F811
    call_command("nightly", "--as-of", AS_OF.isoformat())
    call_command("send", "--day", TOMORROW.isoformat(), "--enqueue")
    with time_machine.travel(MORNING, tick=False):
        run_worker()

    job = DBTaskResult.objects.get()
    messages = OutboundMessage.objects.count()
    assert job.status == "SUCCESSFUL"
    assert (job.return_value["day"], job.return_value["queued"]) == (TOMORROW.isoformat(), messages)
    assert job.return_value["outbox"] == {"sent": messages, "failed": 0, "error": 0}
    assert messages == 4  # R1 and R2: sms and app each
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert not PlannedAction.objects.filter(as_of=AS_OF, kind="message", status="planned").exists()
