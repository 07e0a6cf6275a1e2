"""The background worker SIGKILLed twice while it drains the outbox, each time with one message
delivered by the provider but not yet confirmed in doorstep (`sending`) and others still queued;
then restarted. Nothing is lost: the restarted worker runs again the drain it died in and sends
the queued messages. Nothing is sent twice: a message left `sending` is asked about again only
after the stuck timeout (DOORSTEP_OUTBOX_STUCK_SECONDS), under the same reference, and the
provider (the sandbox, which keeps its own record outside doorstep's database) deduplicates by it.

The worker is `doorstep db_worker --worker-id ...` in a process of its own on the test's database
and clock. Which message is in flight at each kill comes from a seeded RNG (DOORSTEP_KILL_SEED; a
new seed each run otherwise), printed in a failure's message. Slow (about 30 s: three worker
processes start): `make failure-tests` runs it.
"""

import json
import os
import random
from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from doorstep.audit.domain import verify
from doorstep.audit.models import AuditEntry
from doorstep.compliance import domain as compliance
from doorstep.compliance.engine.checks import Action
from doorstep.contact import channels, tasks
from doorstep.contact.domain import draft_default_templates, queue_message
from doorstep.contact.models import Contact, OutboundMessage
from doorstep.intake.importer import import_portfolio
from tests.arrangements.conftest import AS_OF, local
from tests.failure import harness
from tests.strategy.builder import Portfolio

# Half a minute (three worker processes start): make failure-tests runs it.
pytestmark = [pytest.mark.failure, pytest.mark.slow]

MESSAGES = 8
LATENCY_MS = 300  # the provider's answer, after it has delivered: the window the kills aim at
STUCK_SECONDS = 3
WORKER = "failure-worker-1"


@pytest.fixture
def seed():
    return int(os.environ.get("DOORSTEP_KILL_SEED") or random.SystemRandom().randrange(2**32))


@pytest.fixture
def clock():
    """The clock at 10:00 in Shenzhen on AS_OF, ticking; the worker's runs on from the same."""
    with time_machine.travel(local(AS_OF, 10), tick=True):
        yield


@pytest.fixture
def queued(tmp_path, transactional_db, clock):
    """MESSAGES overdue reminders in the outbox, one per borrower, on the guard's permits."""
    p = Portfolio(AS_OF)
    accounts = [p.account(f"W{n}", overdue="800.00", dpd=3) for n in range(MESSAGES)]
    import_portfolio(p.write(tmp_path / "p"))
    for template in draft_default_templates(by="writer"):
        compliance.review_template(template.pk, by="compliance", approve=True)
    messages = []
    for account_id in accounts:
        permit = compliance.authorize(
            Action(account_id, f"B{account_id}", "sms", "reminder", "failure",
                   timezone.now(), template="overdue_reminder"),
            now=timezone.now(),
        )  # fmt: skip
        messages.append(
            queue_message(permit.pk, template_code="overdue_reminder", by="failure",
                          at=timezone.now(), params={"lender": "门前金融", "amount": "800.00",
                                                     "dpd": 3, "portal": "x", "due_date": "x"})
        )  # fmt: skip
    return messages


def worker_env(provider: channels.SandboxSmsBackend) -> dict[str, str]:
    return {
        "DATABASE_URL": harness.url_of(connection.settings_dict),
        "DOORSTEP_VAR_DIR": str(settings.VAR_DIR),
        "DOORSTEP_TEST_CLOCK": timezone.now().isoformat(),
        "DOORSTEP_SMS_BACKEND": "doorstep.contact.channels.SandboxSmsBackend",
        "DOORSTEP_SMS_SANDBOX_FILE": provider.path,
        "DOORSTEP_SMS_SANDBOX_LATENCY_MS": str(LATENCY_MS),
        "DOORSTEP_OUTBOX_STUCK_SECONDS": str(STUCK_SECONDS),
    }


def start_worker(provider, log):
    return harness.spawn(
        ["doorstep", "db_worker", "--worker-id", WORKER, "--no-startup-delay", "--no-reload",
         "--interval", "0.05"],
        env=worker_env(provider), log=log,
    )  # fmt: skip


def status(message) -> str:
    return OutboundMessage.objects.values_list("status", flat=True).get(pk=message.pk)


def test_a_worker_killed_while_sending_loses_nothing_and_sends_nothing_twice(
    queued, tmp_path, seed
):
    provider = channels.SandboxSmsBackend(str(tmp_path / "provider.sqlite3"))
    rng = random.Random(seed)
    # Two kill points, each a message delivered but not confirmed: one of the first half, one
    # of the second (the second worker starts where the first left off).
    aims = [rng.randrange(0, MESSAGES // 2 - 1), rng.randrange(MESSAGES // 2, MESSAGES - 1)]
    why = f"seed {seed}, killed with message(s) {aims} in flight"
    drain = tasks.drain_outbox.enqueue()
    log = tmp_path / "worker.log"
    in_flight = []

    for aim in aims:
        target = queued[aim]
        worker = start_worker(provider, log)
        harness.wait_for(
            lambda t=target: status(t) == "sending"
            and any(d["reference"] == t.permit_id for d in provider.deliveries()),
            what=f"message {aim} delivered and not confirmed ({why})",
            seconds=120, process=worker, log=log,
        )  # fmt: skip
        harness.kill(worker)
        in_flight.append(target)

    worker = start_worker(provider, log)
    try:
        harness.wait_for(
            lambda: DBTaskResult.objects.get(pk=drain.id).status == "SUCCESSFUL",
            what=f"the drain the worker died in run to its end ({why})",
            seconds=120, process=worker, log=log,
        )  # fmt: skip
        statuses = {m.pk: status(m) for m in queued}
        stuck = {m.pk for m in in_flight}
        # Nothing that was queued is left behind.
        assert {k for k, v in statuses.items() if v != "sent"} <= stuck, (why, statuses)
        waiting = OutboundMessage.objects.filter(status="sending")
        if waiting.exists():
            # In flight at a kill and not yet stuck for long enough when the drain ran: the
            # timer's next drain, once the timeout has passed, asks again.
            last_claim = max(waiting.values_list("sending_at", flat=True))
            harness.wait_for(
                lambda: timezone.now() > last_claim + timedelta(seconds=STUCK_SECONDS),
                what="the stuck timeout to pass",
                seconds=30,
            )
            tick = tasks.drain_outbox.enqueue()
            harness.wait_for(
                lambda: DBTaskResult.objects.get(pk=tick.id).status == "SUCCESSFUL",
                what=f"the next drain ({why})", seconds=60, process=worker, log=log,
            )  # fmt: skip
    finally:
        harness.kill(worker)

    messages = OutboundMessage.objects.order_by("id")
    assert set(messages.values_list("status", flat=True)) == {"sent"}, why
    deliveries = provider.deliveries()
    assert sorted(d["reference"] for d in deliveries) == sorted(m.permit_id for m in messages), why
    requests = provider.requests()
    repeats = sorted(r["reference"] for r in requests if r["repeated"])
    assert repeats == sorted(m.permit_id for m in in_flight), why
    for message in in_flight:
        asked = [r["at"] for r in requests if r["reference"] == message.permit_id]
        assert len(asked) == 2, (why, asked)
        # Asked again only once stuck for the timeout: the resending worker's clock against the
        # claim's (each worker runs its own test clock from its start, so the provider's two
        # request times, stamped by two workers, are not comparable to a second).
        (resend,) = AuditEntry.objects.filter(
            code="message.resending", obj_type="contact.outboundmessage", obj_id=str(message.pk)
        )
        since = datetime.fromisoformat(json.loads(resend.data)["sending_since"])
        assert resend.at - since >= timedelta(seconds=STUCK_SECONDS), (why, resend.at, since)
        assert OutboundMessage.objects.get(pk=message.pk).attempts == 2
    assert Contact.objects.filter(outcome="sent").count() == MESSAGES
    assert sorted(Contact.objects.values_list("permit_id", flat=True)) == sorted(
        m.permit_id for m in messages
    )
    job = DBTaskResult.objects.get(pk=drain.id)
    assert job.worker_ids == [WORKER] * 3, why  # claimed by each of the three processes
    assert verify().ok
    print(f"{why}; provider: {len(deliveries)} deliveries, {len(requests)} requests")
