"""A write locks the account before the object it moves (docs/adr/0010): a visit, a hold, the
borrower the guard counts caps on. A payment holds the account while it cancels the account's
visits; a move that held the visit and then reached for the account (a contact, a hold, a
re-evaluation) crossed it.

The test holds the account's row in one connection, starts a move in another and waits until
PostgreSQL says the move is waiting for that lock. The holder then asks for the object's row
without waiting: it is free only if the move did not take it before the account."""

import threading
import time
from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction

from doorstep.compliance.domain import authorize
from doorstep.compliance.engine.checks import Action
from doorstep.ledger.domain import place_hold, release_hold
from doorstep.ledger.models import Borrower, Hold
from doorstep.ledger.queries import locked_account
from doorstep.visits import domain
from doorstep.visits.enums import VisitState
from doorstep.visits.models import Visit
from tests.visits.conftest import VISIT_DAY, local
from tests.visits.test_workflow import assigned

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks: PostgreSQL (SQLite locks the whole database for a write)",
)

DEADLINE = 15  # seconds


def _backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def _poll(query: str, params, *, until, what: str):
    """Run `query` (autocommit, fresh statistics each time) until `until(rows)`; fail after the
    deadline saying `what` was awaited."""
    deadline = time.monotonic() + DEADLINE
    while True:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            rows = cursor.fetchall()
        if until(rows):
            return rows
        if time.monotonic() > deadline:
            pytest.fail(f"waited {DEADLINE} s for {what}; last saw {rows}")
        time.sleep(0.02)


def _check_in(visit, agent):
    return lambda: domain.check_in(visit.pk, agent=agent, at=local(VISIT_DAY, 10))


def _record_outcome(visit, agent):
    domain.check_in(visit.pk, agent=agent, at=local(VISIT_DAY, 10))
    return lambda: domain.record_outcome(
        visit.pk, agent=agent, at=local(VISIT_DAY, 10, 40), outcome="promise_to_pay",
        identity_checked=True, address_confirmed=True,
        ptp_amount_cents=100000, ptp_date=date(2026, 11, 18),
    )  # fmt: skip


def _cancel(visit, agent):
    return lambda: domain.cancel_visit(visit.pk, by="sup", at=local(VISIT_DAY, 8), reason="other")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("start", "ends_in"),
    [
        (_check_in, VisitState.IN_PROGRESS),
        (_record_outcome, VisitState.FOLLOW_UP),
        (_cancel, VisitState.CANCELLED),
    ],
    ids=["check_in", "record_outcome", "cancel"],
)
def test_a_visit_move_waits_for_the_account_before_it_locks_the_visit(field, start, ends_in):
    agent, _ = field["agents"]
    visit = assigned(field)
    move = start(visit, agent)

    result = _waits_for_the_account_first(visit.account_id, move, Visit.objects.filter(pk=visit.pk))

    assert not isinstance(result, Exception), result
    assert Visit.objects.get(pk=visit.pk).state == ends_in


@pytest.mark.django_db(transaction=True)
def test_releasing_a_hold_waits_for_the_account_before_it_locks_the_hold(field):
    hold = place_hold("V1", kind="dispute", since=date(2026, 11, 1), by="t")
    move = lambda: release_hold(hold, until=date(2026, 11, 20), by="t", reason="resolved")  # noqa: E731

    result = _waits_for_the_account_first("V1", move, Hold.objects.filter(pk=hold.pk))

    assert not isinstance(result, Exception), result
    assert Hold.objects.get(pk=hold.pk).until == date(2026, 11, 20)


@pytest.mark.django_db(transaction=True)
def test_the_guard_waits_for_the_account_before_it_locks_the_borrower(field):
    """The API's permit request asks the guard alone: it took the borrower and the audit head
    without the account."""
    borrower_id = Borrower.objects.get(accounts__pk="V1").pk
    asked = Action(account_id="V1", borrower_id=borrower_id, channel="call",
                   purpose="collection", actor="t", planned_at=local(VISIT_DAY, 10))  # fmt: skip
    move = lambda: authorize(asked, now=local(VISIT_DAY, 10))  # noqa: E731

    result = _waits_for_the_account_first("V1", move, Borrower.objects.filter(pk=borrower_id))

    assert not isinstance(result, Exception), result


def _waits_for_the_account_first(account_id: str, move, obj):
    """Hold `account_id`'s row, run `move` in another connection, check it waits for that row
    while `obj` (a queryset of the one row it moves) is still free; release; `move`'s result."""
    holding, ask_object, release = threading.Event(), threading.Event(), threading.Event()
    seen: dict = {}

    def hold_the_account():  # what a payment in progress holds
        try:
            seen["holder"] = _backend_pid()
            with transaction.atomic():
                locked_account(account_id)
                holding.set()
                ask_object.wait(DEADLINE)
                try:
                    with transaction.atomic():
                        obj.select_for_update(nowait=True).get()
                    seen["object_row"] = "free"
                except DatabaseError as e:
                    seen["object_row"] = f"locked by the move: {e}"
                release.wait(DEADLINE)
        finally:
            holding.set()
            connection.close()

    def run_the_move():
        try:
            seen["mover"] = _backend_pid()
            seen["result"] = move()
        except Exception as e:
            seen["result"] = e
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_account)
    holder.start()
    holding.wait(DEADLINE)
    mover = threading.Thread(target=run_the_move)
    mover.start()
    try:
        _poll("SELECT 1", [], until=lambda _: "mover" in seen, what="the move's connection")
        _poll(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
            [seen["mover"]],
            until=lambda rows: rows == [("Lock",)],
            what="the move to wait on a lock",
        )
        [(blockers, relations)] = _poll(
            "SELECT pg_blocking_pids(%s),"
            " ARRAY(SELECT relation::regclass::text FROM pg_locks"
            "       WHERE pid = %s AND locktype = 'tuple')",
            [seen["mover"], seen["mover"]],
            until=lambda rows: bool(rows and rows[0][0]),
            what="the move's blocker",
        )
        # Blocked by the account's holder, queued on a row of ledger_account.
        assert (blockers, relations) == ([seen["holder"]], ["ledger_account"])
        ask_object.set()
        _poll("SELECT 1", [], until=lambda _: "object_row" in seen, what="the holder's answer")
    finally:
        ask_object.set()
        release.set()
        holder.join(DEADLINE)
        mover.join(DEADLINE)

    assert seen["object_row"] == "free"
    return seen["result"]
