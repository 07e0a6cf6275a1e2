"""The nightly run: idempotent, all-or-nothing, plans actions by cadence, cancels stale ones;
strategies are versioned with a diff; a payment re-evaluates its account at once."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from doorstep.api.models import ApiToken
from doorstep.compliance.domain import review_template
from doorstep.compliance.models import Refusal
from doorstep.contact.domain import draft_default_templates
from doorstep.intake.importer import import_portfolio
from doorstep.strategy import domain
from doorstep.strategy.enums import ActionStatus, RunStatus
from doorstep.strategy.models import Decision, NightlyRun, PlannedAction, StrategyVersion
from tests.strategy.builder import Portfolio
from tests.strategy.edits import visit_from

AS_OF = date(2026, 11, 20)
ENGINES = ["duckdb", "postgres"]


def engines():
    return ["duckdb", "postgres"] if connection.vendor == "postgresql" else ["duckdb"]


def state() -> tuple:
    """Decisions and actions, without the ids of the runs that wrote them."""
    decisions = sorted(
        Decision.objects.values_list(
            "account_id", "as_of", "stage", "previous_stage", "triggers", "blocked_by",
            "reasons_en", "reasons_zh", "arm", "dpd", "overdue_cents", "outstanding_cents",
        )
    )  # fmt: skip
    actions = sorted(
        PlannedAction.objects.values_list(
            "account_id", "as_of", "stage", "kind", "channel", "template", "status", "priority"
        )
    )
    return decisions, actions


def approved_templates():
    for template in draft_default_templates(by="writer"):
        review_template(template.pk, by="compliance", approve=True)


def small_portfolio(tmp_path):
    approved_templates()
    p = Portfolio(AS_OF)
    p.account("PHONE", overdue="5000.00", dpd=40)
    p.account("VISIT", overdue="5000.00", dpd=89)  # a home visit from tomorrow
    p.account("REMIND", overdue="600.00", dpd=2)  # reminders on day 3, not today
    p.account("SOON", due_in=2)
    import_portfolio(p.write(tmp_path / "p"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("engine", ENGINES)
def test_a_rerun_for_the_same_date_changes_nothing(tmp_path, engine):
    if engine not in engines():
        pytest.skip("the postgres engine runs in place on PostgreSQL only")
    small_portfolio(tmp_path)
    first = domain.run_nightly(AS_OF, engine=engine, by="test")
    before = state()
    second = domain.run_nightly(AS_OF, engine=engine, by="test")

    assert state() == before
    assert (first.accounts, first.actions) == (second.accounts, second.actions) == (4, 4)
    # A call task carries the queue's priority: overdue × the weight of its days past due.
    assert sorted((a, s, k, c, p) for a, _, s, k, c, _, _, p in before[1]) == [
        ("PHONE", "phone", "call_task", "call", 500_000 * 5),
        ("SOON", "pre_due", "message", "app", 0),
        ("SOON", "pre_due", "message", "sms", 0),
        ("VISIT", "phone", "call_task", "call", 500_000 * 7),
    ]
    assert list(NightlyRun.objects.values_list("status", flat=True)) == [RunStatus.DONE] * 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("engine", ENGINES)
def test_a_run_killed_half_way_leaves_the_last_state_and_a_rerun_converges(tmp_path, engine):
    if engine not in engines():
        pytest.skip("the postgres engine runs in place on PostgreSQL only")
    small_portfolio(tmp_path)
    tomorrow = AS_OF + timedelta(days=1)
    domain.run_nightly(AS_OF, engine=engine, by="test")
    yesterday_state = state()

    with pytest.raises(RuntimeError, match="killed half-way"):
        domain.run_nightly(tomorrow, engine=engine, by="test", fail_after_writing_decisions=True)
    assert state() == yesterday_state
    domain.run_nightly(tomorrow, engine=engine, by="test")
    recovered = state()

    Decision.objects.all().delete()
    PlannedAction.objects.all().delete()
    domain.run_nightly(AS_OF, engine=engine, by="test")
    domain.run_nightly(tomorrow, engine=engine, by="test")
    assert state() == recovered
    statuses = list(NightlyRun.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["done", "abandoned", "done", "done", "done"]


@pytest.mark.django_db(transaction=True)
def test_the_next_night_moves_stages_plans_on_entry_and_cancels_stale_actions(tmp_path):
    small_portfolio(tmp_path)
    domain.run_nightly(AS_OF, by="test")
    domain.run_nightly(AS_OF + timedelta(days=1), by="test")

    visit = Decision.objects.get(account_id="VISIT", as_of=AS_OF + timedelta(days=1))
    assert (visit.previous_stage, visit.stage) == ("phone", "home_visit")
    actions = PlannedAction.objects.filter(account_id="VISIT").order_by("as_of")
    assert [(a.as_of, a.kind, a.status) for a in actions] == [
        (AS_OF, "call_task", ActionStatus.CANCELLED),
        (AS_OF + timedelta(days=1), "visit_proposal", ActionStatus.PLANNED),
    ]
    assert actions[0].cancelled_reason == f"stage changed on {AS_OF + timedelta(days=1)}"
    remind = PlannedAction.objects.filter(account_id="REMIND", as_of=AS_OF + timedelta(days=1))
    assert sorted(remind.values_list("channel", flat=True)) == ["app", "email", "sms"]  # day 3


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_writes_nothing(tmp_path):
    small_portfolio(tmp_path)
    result = domain.run_nightly(AS_OF, by="test", dry_run=True)

    assert (result.accounts, result.stages["phone"]) == (4, 2)
    assert (
        Decision.objects.count() == PlannedAction.objects.count() == NightlyRun.objects.count() == 0
    )


@pytest.mark.django_db(transaction=True)
def test_the_version_and_run_a_night_decided_with_cannot_be_deleted(tmp_path):
    """Decisions and actions keep their version and run without a database constraint (models:
    BY_CONSTRUCTION); the ORM's PROTECT still refuses to delete either while rows point at it."""
    small_portfolio(tmp_path)
    domain.run_nightly(AS_OF, by="test")
    run = NightlyRun.objects.get()

    with pytest.raises(ProtectedError):
        run.strategy.delete()
    with pytest.raises(ProtectedError):
        run.delete()
    assert Decision.objects.filter(run=run, strategy=run.strategy).count() == 4
    assert PlannedAction.objects.filter(run=run).count() == 4


@pytest.mark.django_db
def test_publishing_versions_a_strategy_with_author_and_diff():
    first = domain.active_version()
    text = visit_from(first.document, 75)
    second = domain.publish_strategy(text, by="li.strategy", note="visit from 75 days")
    again = domain.publish_strategy(text, by="someone.else")

    assert (first.label, first.author) == ("default@1", "system")
    assert (second.label, second.author, again.pk) == ("default@2", "li.strategy", second.pk)
    assert '-        when: "dpd >= 90 AND overdue_amount >= 3000"' in second.diff
    assert '+        when: "dpd >= 75 AND overdue_amount >= 3000"' in second.diff
    assert domain.active_version() == second
    assert StrategyVersion.objects.count() == 2


@pytest.mark.django_db
def test_an_invalid_strategy_file_is_refused_by_the_command_with_every_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(domain.DEFAULT_STRATEGY.read_text().replace('"dpd >= 31"', '"dpd >= salary"'))
    with pytest.raises(CommandError) as refused:
        call_command("strategy", "publish", str(bad))
    assert "rule phone.dpd_31 (line 1, column 8): unknown feature 'salary'" in str(refused.value)
    assert StrategyVersion.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_strategy_diff_prints_the_from_to_matrix(tmp_path, capsys):
    small_portfolio(tmp_path)
    new = tmp_path / "new.yaml"
    new.write_text(visit_from(domain.DEFAULT_STRATEGY.read_text(), 40))
    call_command("strategy", "diff", "active", str(new), "--as-of", AS_OF.isoformat())
    out = capsys.readouterr().out.splitlines()
    header = out[1].split()
    matrix = {
        line.split()[0]: dict(zip(header, line.split()[1:], strict=True)) for line in out[2:-1]
    }
    assert matrix["phone"] == {
        "pre_due": "0",
        "reminder": "0",
        "phone": "0",
        "home_visit": "2",
    }
    assert out[-1] == "2 of 4 accounts change stage"


@pytest.mark.django_db(transaction=True)
def test_a_payment_that_settles_cancels_every_pending_action_at_once(tmp_path, client):
    small_portfolio(tmp_path)
    domain.run_nightly(AS_OF, by="test")
    user = User.objects.create_user("cashier")
    user.user_permissions.add(Permission.objects.get(codename="post_payment"))
    _, token = ApiToken.issue(user, name="test")
    paid_at = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

    response = client.post(
        "/api/payments",
        {"account_id": "PHONE", "amount": "5000.00", "paid_at": paid_at.isoformat()},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["account_status"] == "settled"
    today = timezone.localdate(timezone.now(), ZoneInfo("Asia/Shanghai"))
    decision = Decision.objects.get(account_id="PHONE", as_of=today)
    assert (decision.stage, decision.engine) == ("none", "realtime")
    assert list(
        PlannedAction.objects.filter(account_id="PHONE").values_list("status", flat=True)
    ) == [ActionStatus.CANCELLED]
    assert PlannedAction.objects.filter(status=ActionStatus.PLANNED).count() == 3


@pytest.mark.django_db(transaction=True)
def test_re_evaluating_twice_a_day_rewrites_the_days_one_decision_without_savepoints(tmp_path):
    small_portfolio(tmp_path)
    domain.run_nightly(AS_OF, by="test")
    night = Decision.objects.get(account_id="PHONE", as_of=AS_OF)
    at = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # noon in Shanghai, on the as-of date

    with CaptureQueriesContext(connection) as seen:
        first = domain.reevaluate_account("PHONE", at=at, by="test")
    Decision.objects.filter(pk=first.pk).update(stage="reminder", reasons_en="stale")
    domain.reevaluate_account("PHONE", at=at + timedelta(hours=1), by="test")

    again = Decision.objects.get(account_id="PHONE", as_of=AS_OF)
    assert first.pk == again.pk == night.pk
    assert (again.engine, again.run_id, again.stage) == ("realtime", None, "phone")
    assert again.reasons_en == night.reasons_en
    assert Decision.objects.filter(account_id="PHONE").count() == 1
    assert not [q["sql"] for q in seen.captured_queries if "SAVEPOINT" in q["sql"]]


def staff_token(*codenames: str) -> str:
    user = User.objects.create_user("staff")
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return ApiToken.issue(user, name="test")[1]


@pytest.mark.django_db(transaction=True)
# The API re-decides the account as of now: the morning after the run, not the real date.
@time_machine.travel(datetime(2026, 11, 21, 1, tzinfo=UTC), tick=True)
def test_a_dispute_suspends_the_account_and_cancels_its_actions_at_once(tmp_path, client):
    small_portfolio(tmp_path)
    domain.run_nightly(AS_OF, by="test")
    token = staff_token("add_hold")

    response = client.post(
        "/api/accounts/PHONE/holds",
        {"kind": "dispute", "since": "2026-11-21"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["stage"] == "suspended"
    assert response.json()["triggers"] == ["phone.dpd_31", "suspended.hold"]
    assert list(
        PlannedAction.objects.filter(account_id="PHONE").values_list("status", flat=True)
    ) == [ActionStatus.CANCELLED]
    again = client.post(
        "/api/accounts/PHONE/holds",
        {"kind": "dispute", "since": "2026-11-21"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (again.status_code, again.json()["code"]) == (409, "hold.duplicate")


@pytest.mark.django_db(transaction=True)
@time_machine.travel(datetime(2026, 11, 21, 2, 5, tzinfo=UTC), tick=True)  # 10:05 in Shenzhen
def test_a_wrong_number_on_an_unreached_account_makes_it_lost_and_proposes_a_visit(
    tmp_path, client
):
    small_portfolio(tmp_path)
    token = staff_token("add_contact")
    headers = {"Authorization": f"Bearer {token}"}

    bad = client.post(
        "/api/accounts/PHONE/contacts",
        {"channel": "sms", "outcome": "reached", "at": "2026-11-21T10:00:00+08:00"},
        content_type="application/json",
        headers=headers,
    )
    permit = client.post(
        "/api/accounts/PHONE/permits",
        {"channel": "call", "planned_at": "2026-11-21T10:00:00+08:00"},
        content_type="application/json",
        headers=headers,
    ).json()["permit_id"]
    response = client.post(
        "/api/accounts/PHONE/contacts",
        {"channel": "call", "outcome": "wrong_number", "at": "2026-11-21T10:00:00+08:00",
         "permit_id": permit},
        content_type="application/json",
        headers=headers,
    )  # fmt: skip

    assert (bad.status_code, bad.json()["code"]) == (422, "contact.outcome")
    assert response.status_code == 201, response.content
    assert response.json()["stage"] == "home_visit"
    assert "home_visit.lost_contact" in response.json()["triggers"]
    proposal = PlannedAction.objects.get(account_id="PHONE", kind="visit_proposal")
    assert (proposal.status, proposal.stage) == (ActionStatus.PLANNED, "home_visit")


@pytest.mark.django_db(transaction=True)
def test_planned_messages_without_an_approved_template_are_refused_with_the_rule(tmp_path):
    p = Portfolio(AS_OF)
    p.account("SOON", due_in=2)
    import_portfolio(p.write(tmp_path / "p"))

    domain.run_nightly(AS_OF, by="test")

    refused = PlannedAction.objects.filter(account_id="SOON").values_list("status", "refused_rule")
    assert sorted(refused) == [(ActionStatus.REFUSED, "cn.template")] * 2
    assert sorted(Refusal.objects.values_list("account_id", "channel", "rule_id")) == [
        ("SOON", "app", "cn.template"), ("SOON", "sms", "cn.template"),
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_tomorrows_call_task_is_refused_when_the_week_already_holds_seven_calls(tmp_path):
    approved_templates()
    p = Portfolio(AS_OF)
    p.account("BUSY", overdue="5000.00", dpd=40)
    p.account("QUIET", overdue="5000.00", dpd=40)
    for days_ago in (5, 4, 3, 3, 2, 1, 0):  # seven attempts in the six days before tomorrow
        p.contact("BUSY", days_ago, "call", "no_answer")
    p.contact("QUIET", 0, "call", "no_answer")
    import_portfolio(p.write(tmp_path / "p"))

    domain.run_nightly(AS_OF, by="test")

    tasks = dict(
        PlannedAction.objects.filter(kind="call_task").values_list("account_id", "refused_rule")
    )
    assert tasks == {"BUSY": "cn.cap.calls_7d", "QUIET": ""}


@pytest.mark.django_db(transaction=True)
def test_screening_reads_the_same_planned_actions_through_adbc_and_django(tmp_path, monkeypatch):
    from django.conf import settings

    from doorstep import arrowdb
    from doorstep.strategy import screening

    small_portfolio(tmp_path)
    domain.run_nightly(AS_OF, by="test")
    PlannedAction.objects.filter(as_of=AS_OF).update(status=ActionStatus.PLANNED)

    through_adbc = screening._planned(AS_OF)
    monkeypatch.setattr(arrowdb, "usable", lambda: False)
    through_django = screening._planned(AS_OF)

    assert through_adbc.equals(through_django)
    assert set(through_adbc.column("kind").to_pylist()) == {"message", "call_task"}
    kinds = through_adbc.column("kind")
    purposes = screening._mapped(kinds, screening.PURPOSE, screening.pa.string()).to_pylist()
    assert purposes == [screening.PURPOSE[k] for k in kinds.to_pylist()]
    send_day = AS_OF + timedelta(days=1)
    moments = screening._send_times(send_day, through_adbc).to_pylist()
    for kind, zone, moment in zip(
        kinds.to_pylist(), through_adbc.column("time_zone").to_pylist(), moments, strict=True
    ):
        hh, mm = map(int, settings.DOORSTEP_SEND_TIMES[kind].split(":"))
        assert moment == datetime(send_day.year, send_day.month, send_day.day, hh, mm,
                                  tzinfo=ZoneInfo(zone))  # fmt: skip
