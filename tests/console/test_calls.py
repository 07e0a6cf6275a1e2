"""The call queue, claims, and the case view's actions: what the guard allows now, a promise
recorded in two clicks, a disallowed call shown with its rule, reads and reveals logged."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from doorstep.audit.domain import record
from doorstep.audit.models import AuditEntry
from doorstep.console.calls import CallQueue
from doorstep.contact.models import Contact
from doorstep.intake.importer import import_portfolio
from doorstep.ledger.models import Account, Region
from doorstep.strategy.domain import active_version, publish_strategy, run_nightly, take_payment
from doorstep.strategy.models import PlannedAction
from doorstep.web.domain import ensure_demo_logins
from doorstep.worklist.domain import ClaimRefused, claim, release
from doorstep.worklist.models import Claim
from tests.strategy.builder import Portfolio

pytestmark = pytest.mark.usefixtures("today_is_a_working_day")


def zone_where_it_is(hour: int) -> str:
    """A fixed-offset zone in which it is now about `hour` o'clock (tests of contact hours)."""
    now = datetime.now(UTC)
    offset = (hour - now.hour) % 24
    offset = offset - 24 if offset > 12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


@pytest.fixture
def queue(tmp_path, transactional_db):
    """Three accounts in the phone stage (40, 50 and 70 days overdue), decided today."""
    today = timezone.localdate()
    p = Portfolio(today)
    p.account("C1", overdue="1000.00", dpd=40)
    p.account("C2", overdue="1000.00", dpd=70)
    p.account("C3", overdue="9000.00", dpd=50)
    import_portfolio(p.write(tmp_path / "p"))
    Region.objects.filter(code="440305").update(time_zone=zone_where_it_is(12))
    run_nightly(today, by="t")
    ensure_demo_logins(lambda role: f"pw-{role}")
    return today


def _client(username):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_the_queue_orders_by_priority_and_claims_are_exclusive(queue):
    collector, supervisor = _client("phone_collector"), _client("collections_supervisor")
    page = collector.get("/console/calls/").content.decode()
    # ¥9,000 at 50 days outranks ¥1,000 at 70, which outranks ¥1,000 at 40.
    assert page.index(">C3<") < page.index(">C2<") < page.index(">C1<")
    task = PlannedAction.objects.get(account_id="C3", kind="call_task")
    assert collector.post(f"/console/calls/{task.pk}/claim")["Location"] == "/console/accounts/C3/"
    taken = supervisor.post(f"/console/calls/{task.pk}/claim", HTTP_HX_REQUEST="true")
    assert "phone_collector is working on it" in taken.content.decode()
    collector.post(f"/console/calls/{task.pk}/claim", {"release": "1"})
    assert supervisor.post(f"/console/calls/{task.pk}/claim").status_code == 302


def test_a_task_planned_in_real_time_today_joins_the_nights_queue(tmp_path, transactional_db):
    """The night of yesterday planned the queue, and today's night has not run yet; a payment
    today moves a home-visit account down to the phone stage, which plans its call task dated
    today. The queue shows it in its place by priority, marked, beside the night's tasks (it
    showed only the tasks of the latest date: today's one)."""
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    p = Portfolio(yesterday)
    p.account("C1", overdue="1000.00", dpd=40)
    p.account("C3", overdue="9000.00", dpd=50)
    p.account("H1", overdue="5000.00", dpd=100)
    import_portfolio(p.write(tmp_path / "p"))
    # The region keeps the server's zone: its date is the queue's today.
    run_nightly(yesterday, by="t")
    ensure_demo_logins(lambda role: f"pw-{role}")
    assert not PlannedAction.objects.filter(account_id="H1", kind="call_task").exists()
    now = timezone.now()
    take_payment("H1", amount_cents=300_000, paid_at=now, by="cashier", at=now)
    task = PlannedAction.objects.get(account_id="H1", kind="call_task", status="planned")
    assert task.as_of == today

    calls = CallQueue(today)
    assert calls.as_of == yesterday
    # ¥9,000 at 50 days (weight 0.5), ¥2,000 left at 101 days (0.9), ¥1,000 at 40 days (0.5)
    assert [(a.account_id, a.planned_today) for a in calls[0:10]] == [
        ("C3", False), ("H1", True), ("C1", False),
    ]  # fmt: skip
    assert calls.count() == 3
    page = _client("phone_collector").get("/console/calls/").content.decode()
    assert page.index(">C3<") < page.index(">H1<") < page.index(">C1<")
    assert page.count('<span class="state">planned today</span>') == 1


def test_before_any_night_the_queue_holds_the_real_time_tasks(tmp_path, transactional_db):
    today = timezone.localdate()
    p = Portfolio(today - timedelta(days=1))
    p.account("H1", overdue="5000.00", dpd=100)
    import_portfolio(p.write(tmp_path / "p"))
    now = timezone.now()
    take_payment("H1", amount_cents=300_000, paid_at=now, by="cashier", at=now)

    calls = CallQueue(today)

    assert calls.as_of is None
    assert [(a.account_id, a.as_of, a.planned_today) for a in calls[0:50]] == [("H1", today, True)]
    assert calls.count() == 1


def test_a_night_replaces_an_accounts_open_call_task_and_a_once_only_task_stays(
    tmp_path, transactional_db
):
    """Daily: the next night's task replaces yesterday's unworked one (closed, with the reason),
    so the account is in the queue once. Planned once (cadence on_entry): it stays in the queue
    on the nights that plan nothing for it, until it is worked."""
    today = timezone.localdate()
    p = Portfolio(today - timedelta(days=2))
    p.account("C1", overdue="1000.00", dpd=40)
    import_portfolio(p.write(tmp_path / "p"))
    run_nightly(today - timedelta(days=2), by="t")
    run_nightly(today - timedelta(days=1), by="t")

    tasks = PlannedAction.objects.filter(account_id="C1", kind="call_task").order_by("as_of")
    assert [(t.as_of, t.status, t.cancelled_reason) for t in tasks] == [
        (today - timedelta(days=2), "cancelled",
         f"replaced by the call task of {today - timedelta(days=1)}"),
        (today - timedelta(days=1), "planned", ""),
    ]  # fmt: skip
    assert [a.as_of for a in CallQueue(today)[0:50]] == [today - timedelta(days=1)]

    once = active_version().document.replace(
        "template: phone_follow_up, cadence: daily", "template: phone_follow_up, cadence: on_entry"
    )
    publish_strategy(once, by="t", note="one call on entering the phone stage")
    p = Portfolio(today)
    p.account("C2", overdue="2000.00", dpd=31)  # entered the phone stage yesterday
    import_portfolio(p.write(tmp_path / "q"))
    run_nightly(today, by="t")

    calls = CallQueue(today)
    assert calls.as_of == today
    assert [(a.account_id, a.as_of) for a in calls[0:50]] == [
        ("C2", today), ("C1", today - timedelta(days=1))
    ]  # fmt: skip


@pytest.mark.parametrize("tasks", [3, 1])
def test_the_queue_reads_the_same_few_queries_for_one_task_or_three(queue, tasks):
    collector = _client("phone_collector")
    done = ["C1", "C2"][: 3 - tasks]
    PlannedAction.objects.filter(account_id__in=done, kind="call_task").update(status="done")

    with CaptureQueriesContext(connection) as queries:
        response = collector.get("/console/calls/")

    page = response.content.decode()
    assert response.context["page"].paginator.count == tasks
    assert [c for c in ("C1", "C2", "C3") if f">{c}<" in page] == ["C1", "C2", "C3"][3 - tasks :]
    assert "Shenzhen" in page or "深圳" in page  # the region, read with the page's accounts
    # session, user, two permission reads, the latest night's date, the count, the count of the
    # tasks with a promise due today, the page of the rest, their decisions' figures, their
    # accounts (with borrowers and regions), the claims (no promise: the promised page is not read)
    assert len(queries) == 11
    counted = next(q["sql"] for q in queries if "COUNT(" in q["sql"])
    assert "strategy_decision" not in counted
    # The order is read off the tasks' stored priority: no task is joined to its decision.
    assert not [q for q in queries if "strategy_plannedaction" in q["sql"]
                and "strategy_decision" in q["sql"]]  # fmt: skip


def test_the_nightly_run_stores_each_call_tasks_priority_and_the_queue_pages_by_it(queue):
    """Amount overdue × the risk weight of its days past due, in tenths; a promise falling due
    today puts its task first, and pages continue where the promised ones end."""
    tasks = PlannedAction.objects.filter(kind="call_task")
    assert dict(tasks.values_list("account_id", "priority")) == {
        "C1": 100_000 * 5, "C2": 100_000 * 7, "C3": 900_000 * 5,
    }  # fmt: skip
    assert [a.account_id for a in CallQueue(queue)[0:3]] == ["C3", "C2", "C1"]
    Contact.objects.create(
        id="PTP-C1", account_id="C1", at=timezone.now(), channel="call", outcome="promise_to_pay",
        ptp_amount_cents=100_000, ptp_date=queue,
    )  # fmt: skip
    calls = CallQueue(queue)
    assert calls.count() == 3
    first, rest = calls[0:1], calls[1:3]
    assert [(a.account_id, a.promise_today) for a in first + rest] == [
        ("C1", True), ("C3", False), ("C2", False),
    ]  # fmt: skip
    assert [a.account_id for a in calls[2:3]] == ["C2"]
    assert (rest[0].dpd, rest[0].overdue_cents, rest[0].priority_cents) == (50, 900_000, 450_000)
    page = _client("phone_collector").get("/console/calls/").content.decode()
    assert page.index(">C1<") < page.index(">C3<") < page.index(">C2<")
    assert "promise due today" in page

    # Two promises: the promised tasks are sliced too, and a page can start among them and end
    # in the rest.
    Contact.objects.create(
        id="PTP-C2", account_id="C2", at=timezone.now(), channel="call", outcome="promise_to_pay",
        ptp_amount_cents=100_000, ptp_date=queue,
    )  # fmt: skip
    calls = CallQueue(queue)
    assert [(a.account_id, a.promise_today) for a in calls[1:3]] == [
        ("C1", True), ("C3", False),
    ]  # fmt: skip
    assert [a.account_id for a in calls[0:1]] == ["C2"]


@pytest.mark.django_db(transaction=True)
def test_two_people_claiming_at_once_one_wins():
    barrier, results = threading.Barrier(2), []

    def attempt(who):
        try:
            barrier.wait()
            claim("call", "42", by=who, at=timezone.now())
            results.append(who)
        except ClaimRefused:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(who,)) for who in ("ann", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[-1] == "refused"
    assert len([r for r in results if r != "refused"]) == 1
    winner = next(r for r in results if r != "refused")
    assert not release("call", "42", by="ann" if winner == "bob" else "bob", at=timezone.now())
    assert release("call", "42", by=winner, at=timezone.now())


def test_a_lapsed_claim_can_be_taken_over(transactional_db):
    start = timezone.now()
    claim("call", "7", by="ann", at=start)
    with pytest.raises(ClaimRefused):
        claim("call", "7", by="bob", at=start + timedelta(minutes=29))
    assert claim("call", "7", by="bob", at=start + timedelta(minutes=31)).claimed_by == "bob"


def test_a_promise_is_two_clicks_and_the_task_is_done(queue):
    collector = _client("phone_collector")
    page = collector.get("/console/accounts/C1/").content.decode()
    assert 'id="promise"' in page
    due = (queue + timedelta(days=3)).isoformat()
    collector.post("/console/accounts/C1/call",
                   {"outcome": "promise_to_pay", "ptp_amount": "500", "ptp_date": due})  # fmt: skip
    contact = Contact.objects.get(account_id="C1", channel="call")
    assert (contact.outcome, contact.ptp_amount_cents, contact.permit_id is not None) == (
        "promise_to_pay",
        50_000,
        True,
    )
    assert (
        PlannedAction.objects.get(account_id="C1", kind="call_task", as_of=queue).status == "done"
    )


def test_a_disallowed_call_is_shown_with_its_rule_and_cannot_be_recorded(queue):
    Region.objects.filter(code="440305").update(time_zone=zone_where_it_is(22))
    collector = _client("phone_collector")
    page = collector.get("/console/accounts/C2/").content.decode()
    assert 'data-rule="cn.hours.contact"' in page
    assert 'disabled title="cn.hours.contact"' in page
    collector.post("/console/accounts/C2/call", {"outcome": "reached"})
    assert not Contact.objects.filter(account_id="C2", channel="call").exists()


def test_reads_and_reveals_are_logged(queue):
    manager = _client("strategy_manager")
    page = manager.get("/console/accounts/C1/").content.decode()
    assert "138****0000" in page
    manager.post("/console/accounts/C1/reveal", {"reason": "borrower asked to update it"})
    assert "13800000000" in manager.get("/console/accounts/C1/").content.decode()
    codes = list(AuditEntry.objects.filter(actor="strategy_manager").values_list("code", flat=True))
    assert codes == ["account.viewed", "borrower.revealed", "account.viewed"]


def test_the_case_views_title_is_the_account_and_the_audit_trail_is_drawn_once(queue):
    page = _client("strategy_manager").get("/console/accounts/C1/").content.decode()
    # The audit trail once drew a second time inside <title>.
    assert page.count("<title>") == 1
    assert page[page.index("<title>") : page.index("</title>")] == "<title>C1 · doorstep"
    assert page.count('id="audit"') == 1
    assert page.count("case.opened") == 0
    with transaction.atomic():
        record("case.opened", actor="someone", obj=Account.objects.get(pk="C1"))
    page = _client("strategy_manager").get("/console/accounts/C1/").content.decode()
    assert page.count("case.opened") == 1


def test_the_audit_trail_counts_the_opens_and_lists_the_rest(queue):
    """Every open is logged; the trail lists the account's other entries and sums up the opens
    (a busy account's opens pushed its real events out of the list)."""
    manager = _client("strategy_manager")
    first = manager.get("/console/accounts/C1/").content.decode()
    assert 'id="views"' not in first
    manager.post("/console/accounts/C1/reveal", {"reason": "borrower asked to update it"})
    for _ in range(6):
        manager.get("/console/accounts/C1/")
    _client("collections_supervisor").get("/console/accounts/C1/")
    page = manager.get("/console/accounts/C1/").content.decode()
    trail = page[page.index('id="audit"') :]
    assert "account.viewed" not in trail
    assert trail.count("borrower.revealed") == 1
    views = trail[trail.index('id="views"') : trail.index("</p>")]
    # Eight opens before this one; the latest five named, the supervisor's first.
    assert "Opened 8 times before this view" in views
    assert views.count("strategy_manager") == 4
    assert views.index("collections_supervisor") < views.index("strategy_manager")
    assert AuditEntry.objects.filter(obj_id="C1", code="account.viewed").count() == 9


def test_the_case_view_reads_the_account_and_its_books_once(queue):
    manager = _client("strategy_manager")
    manager.get("/console/accounts/C1/")
    with CaptureQueriesContext(connection) as queries:
        page = manager.get("/console/accounts/C1/").content.decode()

    sql = [q["sql"] for q in queries]
    assert 'id="stage" data-stage="phone"' in page
    # The view's own read and the guard's (compliance.check_all reads what it checks).
    assert sum('FROM "ledger_account"' in q for q in sql) == 2
    assert sum('FROM "ledger_instalment"' in q for q in sql) == 1
    # The books (entries up to today) and the timeline (every entry, with its reference).
    assert sum('FROM "ledger_ledgerentry"' in q for q in sql) == 2
    # The stored decision is read only for an account without a live explanation.
    assert not any(
        'FROM "strategy_decision" WHERE "strategy_decision"."account_id"' in q for q in sql
    )
    # The audit trail and the earlier opens are two reads (the opens are counted only when there
    # are more than the page names).
    assert sum('FROM "audit_auditentry"' in q for q in sql) == 2
    assert len(sql) == 34


def test_a_call_recorded_while_the_account_is_being_paid_waits_instead_of_deadlocking(queue):
    """A payment locks the account, then appends to the audit trail (the head row); a call
    locks the account before the guard's permit takes the head, so the two queue up. The other
    order deadlocked on PostgreSQL under `make loadtest` (docs/loadtest.md)."""
    from doorstep.audit.domain import record
    from doorstep.ledger.models import Account
    from doorstep.strategy.calls import record_call

    locked, errors = threading.Event(), []

    def pay_like():  # post_payment's order: the account, then the audit trail
        try:
            with transaction.atomic():
                account = Account.objects.select_for_update().get(pk="C1")
                locked.set()
                time.sleep(0.5)
                record("test.paid", actor="cashier", obj=account, at=timezone.now())
        except Exception as e:
            errors.append(e)
        finally:
            connection.close()

    def call():
        try:
            locked.wait(5)
            record_call("C1", by="phone_collector", at=timezone.now(), outcome="no_answer")
        except Exception as e:
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay_like), threading.Thread(target=call)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditEntry.objects.filter(code="test.paid").count() == 1
    assert Contact.objects.filter(account_id="C1", channel="call", outcome="no_answer").count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks: PostgreSQL (SQLite locks the whole database for a write)",
)
def test_a_payment_in_hand_locks_its_account_not_the_region_every_account_shares(queue):
    """Account writes lock the account row only (FOR UPDATE OF): with the borrower and region
    rows joined into the lock, every payment and call in a region queued on the region's row,
    and deadlocked with the audit trail's head (make loadtest)."""
    from doorstep.ledger.models import Account, Borrower
    from doorstep.strategy.domain import take_payment

    paid, done, errors = threading.Event(), threading.Event(), []

    def pay():
        try:
            with transaction.atomic():
                take_payment("C1", amount_cents=100, paid_at=timezone.now(), by="cashier")
                paid.set()
                done.wait(10)
        except Exception as e:
            errors.append(e)
        finally:
            paid.set()
            connection.close()

    payer = threading.Thread(target=pay)
    payer.start()
    try:
        paid.wait(10)
        c1 = Account.objects.get(pk="C1")
        with transaction.atomic():
            # Each would raise "could not obtain lock" if the payment held it.
            Borrower.objects.select_for_update(nowait=True).get(pk=c1.borrower_id)
            Region.objects.select_for_update(nowait=True).get(code="440305")
            Account.objects.select_for_update(nowait=True).get(pk="C2")
    finally:
        done.set()
        payer.join()
    assert errors == []


def test_a_rejected_call_reads_in_the_pages_language_and_its_message_stays_english(queue):
    from django.utils import translation
    from django.utils.html import escape

    from doorstep.contact.domain import record_contact
    from doorstep.contact.errors import ContactRejected

    def alert(language):
        client = _client("phone_collector")
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        # Two days back: the account's region is where it is about noon now, and its date, which
        # the check uses, can be a day behind the server's (`queue`).
        past = (queue - timedelta(days=2)).isoformat()
        page = client.post("/console/accounts/C1/call", follow=True,
                           data={"outcome": "promise_to_pay", "ptp_amount": "500",
                                 "ptp_date": past}).content.decode()  # fmt: skip
        start = page.index('role="alert">') + len('role="alert">')
        return page[start : page.index("</div>", start)]

    shown = {language: alert(language) for language in ("zh-hans", "en")}
    with translation.override("zh-hans"), pytest.raises(ContactRejected) as refused:
        record_contact("C1", channel="call", outcome="bogus", at=timezone.now(), by="t")

    assert shown == {
        "zh-hans": escape("承诺还款日期已经过去"),
        "en": "the promised date is in the past",
    }
    assert not Contact.objects.filter(account_id="C1", channel="call").exists()
    assert (refused.value.message, refused.value.code) == (
        "unknown outcome 'bogus'", "contact.outcome",
    )  # fmt: skip


def test_claiming_a_task_someone_finished_is_refused_in_its_row(queue):
    """A collector claims from a stale page a task another already finished (make loadtest
    found a 500): the row comes back with the task's status and a disabled button."""
    collector = _client("phone_collector")
    task = PlannedAction.objects.get(account_id="C3", kind="call_task")
    PlannedAction.objects.filter(pk=task.pk).update(status="done")
    audited = AuditEntry.objects.count()

    answer = collector.post(f"/console/calls/{task.pk}/claim", HTTP_HX_REQUEST="true")

    row = answer.content.decode()
    assert answer.status_code == 200
    assert "this call task is done and can no longer be claimed" in row
    assert '<button type="button" disabled>Closed</button>' in row
    assert ">Claim<" not in row
    assert not Claim.objects.filter(kind="call", item=str(task.pk)).exists()
    assert AuditEntry.objects.count() == audited


def test_claiming_a_cancelled_task_without_htmx_is_a_conflict(queue):
    collector = _client("phone_collector")
    task = PlannedAction.objects.get(account_id="C3", kind="call_task")
    PlannedAction.objects.filter(pk=task.pk).update(status="cancelled")
    audited = AuditEntry.objects.count()

    answer = collector.post(f"/console/calls/{task.pk}/claim")

    assert answer.status_code == 409
    assert answer.content.decode() == "this call task is cancelled and can no longer be claimed"
    assert not Claim.objects.filter(kind="call", item=str(task.pk)).exists()
    assert AuditEntry.objects.count() == audited


def test_claiming_a_task_someone_else_holds_without_htmx_is_a_conflict_naming_them(queue):
    """A claim refused because another collector holds the task answers 409, as a closed task's
    does (it answered 400 Bad Request, as if the request were malformed)."""
    collector, supervisor = _client("phone_collector"), _client("collections_supervisor")
    task = PlannedAction.objects.get(account_id="C3", kind="call_task")
    collector.post(f"/console/calls/{task.pk}/claim")
    held = Claim.objects.get(kind="call", item=str(task.pk))
    audited = AuditEntry.objects.count()

    english = supervisor.post(f"/console/calls/{task.pk}/claim")
    supervisor.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    chinese = supervisor.post(f"/console/calls/{task.pk}/claim")

    assert (english.status_code, english.content.decode()) == (
        409, "phone_collector is working on it",
    )  # fmt: skip
    assert (chinese.status_code, chinese.content.decode()) == (409, "phone_collector 正在处理")
    assert english["Content-Type"] == "text/plain; charset=utf-8"
    claim_now = Claim.objects.get(kind="call", item=str(task.pk))
    assert (claim_now.claimed_by, claim_now.expires_at) == ("phone_collector", held.expires_at)
    assert AuditEntry.objects.count() == audited


def test_a_closed_tasks_refusal_reads_in_the_pages_language(queue):
    task = PlannedAction.objects.get(account_id="C3", kind="call_task")
    PlannedAction.objects.filter(pk=task.pk).update(status="done")
    collector = _client("phone_collector")
    collector.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"

    row = collector.post(f"/console/calls/{task.pk}/claim", HTTP_HX_REQUEST="true").content
    answer = collector.post(f"/console/calls/{task.pk}/claim")

    assert "该外呼任务已完成，不能再领取" in row.decode()
    assert '<button type="button" disabled>已关闭</button>' in row.decode()
    assert (answer.status_code, answer.content.decode()) == (409, "该外呼任务已完成，不能再领取")
