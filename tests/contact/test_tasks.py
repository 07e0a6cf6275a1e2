"""The outbox's background job: enqueued, run by the database worker, and safe to run again; the
sandbox provider deduplicates by the client reference; a stuck message is claimed before it is
asked about again."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from doorstep.contact import channels, domain, tasks
from doorstep.contact.enums import MessageStatus
from doorstep.contact.models import Contact, OutboundMessage
from tests.contact.test_api import post, token_for
from tests.contact.test_outbox import account, approve, local, permit, queue  # noqa: F401

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def sandbox(tmp_path, settings):
    settings.DOORSTEP_SMS_BACKEND = "doorstep.contact.channels.SandboxSmsBackend"
    settings.DOORSTEP_SMS_SANDBOX_FILE = str(tmp_path / "provider.sqlite3")
    return channels.SandboxSmsBackend()


@pytest.mark.django_db(transaction=True)
def test_the_worker_drains_the_outbox_through_the_provider(account, sandbox, run_worker):  # noqa: F811
    approve()
    messages = [queue(permit(account, when=local(10, m)), at=local(10, m + 1)) for m in (0, 10)]
    job = tasks.drain_outbox.enqueue()
    assert DBTaskResult.objects.get().status == "READY"

    with time_machine.travel(local(10, 12), tick=False):
        run_worker()

    done = DBTaskResult.objects.get(pk=job.id)
    assert (done.status, done.task_path) == ("SUCCESSFUL", "doorstep.contact.tasks.drain_outbox")
    assert done.return_value == {"sent": 2, "failed": 0, "error": 0, "stuck_sent": 0,
                                 "stuck_failed": 0, "stuck_error": 0}  # fmt: skip
    # Both at the same (frozen) instant: compare as sets of references.
    assert sorted(d["reference"] for d in sandbox.deliveries()) == sorted(
        m.permit_id for m in messages
    )
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert Contact.objects.filter(outcome="sent").count() == 2


@pytest.mark.django_db
def test_the_immediate_backend_drains_at_once(account, sandbox):  # noqa: F811
    approve()
    queue(permit(account))
    with override_settings(TASKS=IMMEDIATE), time_machine.travel(local(10, 2), tick=False):
        result = tasks.drain_outbox.enqueue(limit=10)

    assert (result.status, result.return_value["sent"]) == ("SUCCESSFUL", 1)
    assert OutboundMessage.objects.get().status == "sent"
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_message_queued_through_the_api_enqueues_a_drain(account, sandbox):  # noqa: F811
    approve()
    p = permit(account)
    collector = token_for("collector.li", "contact.add_contact")
    with time_machine.travel(local(10, 1), tick=False):
        response = post("/api/messages", {"permit_id": p.pk, "template": "overdue_reminder",
                                          "params": {"lender": "门前金融", "dpd": 40,
                                                     "amount": "5000.00"}}, collector)  # fmt: skip

    assert response.status_code == 201
    job = DBTaskResult.objects.get()
    assert (job.task_path, job.status) == ("doorstep.contact.tasks.drain_outbox", "READY")
    assert OutboundMessage.objects.get().status == "queued"  # until the worker runs it


def test_the_sandbox_provider_delivers_once_per_reference(tmp_path):
    provider = channels.SandboxSmsBackend(str(tmp_path / "p.sqlite3"), latency_ms=0)
    first = provider.send("13800000000", "hello", reference="P-1")
    again = provider.send("13800000000", "hello", reference="P-1")
    other = provider.send("13900000000", "hi", reference="P-2")

    assert (first, again) == (channels.SendResult(True, "sandbox-P-1"),) * 2
    assert other.provider_id == "sandbox-P-2"
    assert [(d["reference"], d["recipient"]) for d in provider.deliveries()] == [
        ("P-1", "138****0000"), ("P-2", "139****0000"),
    ]  # fmt: skip
    assert [(r["reference"], r["repeated"]) for r in provider.requests()] == [
        ("P-1", 0), ("P-1", 1), ("P-2", 0),
    ]  # fmt: skip


@pytest.mark.django_db
def test_a_stuck_message_is_claimed_once_and_asked_about_once(account, sandbox):  # noqa: F811
    approve()
    message = queue(permit(account))
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, sending_at=local(10, 2), attempts=1
    )
    sandbox.send("13800000000", message.text, reference=message.permit_id)  # it got there

    too_soon = domain.resend_stuck(older_than=timedelta(minutes=10), now=local(10, 11))
    asked = domain.resend_stuck(older_than=timedelta(minutes=10), now=local(10, 13))
    again = domain.resend_stuck(older_than=timedelta(minutes=10), now=local(10, 13))

    assert too_soon == {"sent": 0, "failed": 0, "error": 0}
    assert asked == {"sent": 1, "failed": 0, "error": 0}
    assert again == too_soon
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert message.provider_id == f"sandbox-{message.permit_id}"
    assert len(sandbox.deliveries()) == 1
    assert [r["repeated"] for r in sandbox.requests()] == [0, 1]
    assert Contact.objects.filter(permit_id=message.permit_id).count() == 1


@pytest.mark.django_db
def test_a_drain_that_claimed_a_stuck_message_keeps_others_from_it(account, sandbox):  # noqa: F811
    """The claim moves `sending_at` to now: a second drain at the same moment finds nothing old
    enough, so the provider is asked once even by two drains."""
    approve()
    message = queue(permit(account))
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, sending_at=local(10, 2), attempts=1
    )
    inner = {}

    class SecondDrainMeanwhile(channels.SandboxSmsBackend):
        def send(self, to, text, *, reference):
            inner["counts"] = domain.resend_stuck(
                older_than=timedelta(minutes=10), now=local(10, 13), backends={"sms": self}
            )
            return super().send(to, text, reference=reference)

    backend = SecondDrainMeanwhile(sandbox.path, latency_ms=0)
    counts = domain.resend_stuck(
        older_than=timedelta(minutes=10), now=local(10, 13), backends={"sms": backend}
    )

    assert counts == {"sent": 1, "failed": 0, "error": 0}
    assert inner["counts"] == {"sent": 0, "failed": 0, "error": 0}
    assert len(sandbox.requests()) == 1
