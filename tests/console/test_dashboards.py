"""The dashboards: exact figures on small hand-built portfolios, the CSV of each chart equal to its
table, the permission, and a bound on the queries of each page.

Two portfolios. The visits one (tests/visits/conftest.py: V1..V3 and a team, no nightly run) is
built per test, the tests that use it come first. The history one (conftest.py: seven accounts and
five nights of decisions) is built once for the rest of the module: see its table for the figures
below.
"""

import csv
import html
import io
import re
from datetime import date

import pytest
import time_machine
from django.test import Client

from doorstep.complaints.domain import answer_case, file_case
from doorstep.compliance.domain import authorize
from doorstep.compliance.engine.checks import Action
from doorstep.console import dashboard_queries as q
from doorstep.strategy.domain import take_payment
from doorstep.visits import domain as visits
from doorstep.visits.errors import VisitNotAllowed
from tests.visits.conftest import NOTICE_DAY, VISIT_DAY, field, local  # noqa: F401
from tests.visits.test_workflow import assigned, proposed

BASE = "/console/dashboards"
PAGES = ["", "portfolio/", "rolls/", "cure/", "visits/", "complaints/"]


def table(page: str, slug: str) -> list[list[str]]:
    """The cell texts of figure `slug`'s table on the page, its header first."""
    section = re.search(rf'<section class="card" id="{slug}".*?</section>', page, re.S)
    assert section, f"no figure {slug}"
    body = re.search(r'<table class="figures">(.*?)</table>', section.group(0), re.S).group(1)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(
            r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]  # fmt: skip


def notes(page: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'<p class="muted">(.*?)</p>', page, re.S)]


def download(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # so that spreadsheets read the Chinese labels
    return list(csv.reader(io.StringIO(text[1:])))


def plain(rows: list[list[str]]) -> list[list[str]]:
    """A table as the CSV writes it: ¥1,234.50 → 1234.50, 12.5% → 12.5, — → empty."""
    header, *body = rows
    return [header] + [
        [cell.replace("¥", "").replace(",", "").removesuffix("%").replace("—", "") for cell in row]
        for row in body
    ]


def get(client: Client, path: str) -> str:
    response = client.get(f"{BASE}/{path}")
    assert response.status_code == 200, path
    return response.content.decode()


# --- the visits portfolio (no nightly history) ---------------------------------------------------


@pytest.fixture
def visit_history(field):  # noqa: F811
    """V1 visited: a refused check-in at 20:00, then a promise of ¥2,000 by 11-18; on 11-17 it
    pays all ¥5,000 (settled: no new proposal).
    V2 proposed and rejected, then a complaint about the visit, answered (upheld). V3 approved,
    then cancelled; a call refused at 22:00; a disputed balance, left open. All in 2026-11-12..20."""
    a, _ = field["agents"]
    v1 = assigned(field)
    with pytest.raises(VisitNotAllowed):
        visits.check_in(v1.pk, agent=a, at=local(VISIT_DAY, 20))
    visits.check_in(v1.pk, agent=a, at=local(VISIT_DAY, 10))
    visits.record_outcome(
        v1.pk, agent=a, at=local(VISIT_DAY, 10, 30), outcome="promise_to_pay",
        identity_checked=True, address_confirmed=True, ptp_amount_cents=200_000,
        ptp_date=date(2026, 11, 18),
    )  # fmt: skip
    take_payment("V1", amount_cents=500_000, paid_at=local(date(2026, 11, 17), 12),
                 reference="PAY-1", by="gateway", at=local(date(2026, 11, 17), 12))  # fmt: skip
    v2, v3 = proposed("V2"), proposed("V3")
    visits.reject_visit(v2.pk, by="sup", at=local(NOTICE_DAY, 9), reason="长期失联，先电话")
    visits.approve_visits([v3.pk], by="sup", at=local(NOTICE_DAY, 9))
    visits.cancel_visit(v3.pk, by="sup", at=local(date(2026, 11, 13), 9), reason="withdrawn")
    late = local(date(2026, 11, 13), 22)
    call = Action("V3", "BV3", "call", "collection", "collector", late)
    assert authorize(call, now=late).rule_id == "cn.hours.contact"
    complaint = file_case("V2", kind="complaint", category="visit", text="上门人员态度不好",
                          by="BV2", at=local(date(2026, 11, 13), 10), from_portal=True)  # fmt: skip
    answer_case(complaint.pk, by="sup", at=local(date(2026, 11, 14), 10), finding="upheld",
                answer="已核实并致歉")  # fmt: skip
    file_case("V3", kind="dispute_figure", category="balance", text="逾期金额不对",
              by="BV3", at=local(date(2026, 11, 15), 10), from_portal=True)  # fmt: skip
    return field


@pytest.fixture
def supervisor(visit_history):
    """A field supervisor's client, on the morning after the period the tests look at: "open past
    the deadline" counts as of now, and the dispute filed on 15 November is due on 5 December."""
    from django.contrib.auth import get_user_model

    from doorstep.web.domain import ensure_role_groups

    user = get_user_model().objects.create_user("supervisor-v", is_staff=True)
    user.groups.set([ensure_role_groups()["field_supervisor"]])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    with time_machine.travel(local(date(2026, 11, 21), 9), tick=True):
        yield client


PERIOD = "?start=2026-11-12&end=2026-11-20"


def test_visits_by_step_their_outcomes_and_the_promise_kept(supervisor):
    page = get(supervisor, f"visits/{PERIOD}")
    assert table(page, "steps") == [
        ["Step", "Visits"],
        ["Proposed", "3"],
        ["Approved", "2"],
        ["Rejected", "1"],
        ["Notice sent", "1"],
        ["Declined by the borrower", "0"],
        ["Cancelled", "1"],
        ["Checked in", "1"],  # the refused check-in at 20:00 moved nothing
        ["Done (outcome recorded)", "1"],
    ]
    assert table(page, "outcomes")[1:3] == [
        ["Paid", "0", "0.0%"],
        ["Promise to pay", "1", "100.0%"],
    ]
    assert table(page, "promises") == [
        ["Made on", "Promises", "Promised (¥)", "Kept", "Broken", "Pending", "Kept rate (%)",
         "Paid toward them (¥)"],
        ["Home visit", "1", "¥2,000.00", "1", "0", "0", "100.0%", "¥2,000.00"],
    ]  # fmt: skip
    # Outside the period: nothing.
    other = get(supervisor, "visits/?start=2026-10-01&end=2026-11-11")
    assert table(other, "steps")[1] == ["Proposed", "0"]
    assert table(other, "promises")[1:] == [["Nothing to show for this selection."]]


def test_complaints_by_kind_and_refusals_by_rule(supervisor):
    page = get(supervisor, f"complaints/{PERIOD}")
    assert table(page, "cases") == [
        ["Kind", "About", "Filed", "Answered", "Answered on time", "Upheld (fully or partly)",
         "Open", "Open past the deadline"],
        ["Complaint", "Home visit", "1", "1", "1", "1", "0", "0"],
        ["Dispute of a figure", "The balance or overdue amount", "1", "0", "0", "0", "1", "0"],
    ]  # fmt: skip
    assert table(page, "refusals") == [
        ["Rule", "Source", "Refusals", "Accounts", "Share (%)"],
        ["cn.hours.contact", "National standard", "1", "1", "50.0%"],
        ["cn.hours.visit", "Internal policy", "1", "1", "50.0%"],
    ]
    # The dispute (filed 11-15, 20 days to answer) is late from 12-06 on.
    before, after = (
        q.cases(date(2026, 11, 12), date(2026, 11, 20), today=date(2026, 12, day)) for day in (5, 6)
    )
    assert [c.open_late for c in before] == [0, 0]
    assert [c.open_late for c in after] == [0, 1]


def test_without_nightly_history_the_pages_say_so(supervisor):
    rolls = get(supervisor, "rolls/")
    assert "Roll rates need nightly decisions in two consecutive months" in " ".join(notes(rolls))
    assert 'class="figures"' not in rolls
    cure = get(supervisor, "cure/")
    assert "No nightly decisions yet" in " ".join(notes(cure))
    assert 'class="figures"' not in cure
    assert "—" in get(supervisor, "")  # the index names no figure it cannot compute


# --- the history portfolio -----------------------------------------------------------------------


@pytest.fixture
def manager(nights_of_history, staff):
    return staff("strategy_manager")


def test_accounts_and_balances_by_bucket(manager):
    page = get(manager, "portfolio/?as_of=2026-10-31")
    assert table(page, "buckets") == [
        ["Bucket", "Accounts", "Share of accounts (%)", "Overdue (¥)", "Outstanding (¥)"],
        ["M0", "1", "20.0%", "¥0.00", "¥500.00"],  # CURE2; CURE and SLOW settled, left out
        ["M1", "0", "0.0%", "¥0.00", "¥0.00"],
        ["M2", "3", "60.0%", "¥43,000.00", "¥44,500.00"],  # PART 2,000, ROLL 1,000, BIG 40,000
        ["M3", "1", "20.0%", "¥5,000.00", "¥5,000.00"],  # LATE
        ["M4", "0", "0.0%", "¥0.00", "¥0.00"],
        ["M5", "0", "0.0%", "¥0.00", "¥0.00"],
        ["M6", "0", "0.0%", "¥0.00", "¥0.00"],
        ["M6+", "0", "0.0%", "¥0.00", "¥0.00"],
        ["Total", "5", "100.0%", "¥48,000.00", "¥50,000.00"],
    ]
    # Any date: on 2026-08-31 SLOW and LATE were 10 days late, the rest current.
    august = table(get(manager, "portfolio/?as_of=2026-08-31"), "buckets")
    assert august[1:3] == [
        ["M0", "5", "71.4%", "¥0.00", "¥49,500.00"],
        ["M1", "2", "28.6%", "¥10,000.00", "¥10,000.00"],
    ]


EMPTY = ["0", *["—"] * 10]


def test_roll_rates_month_over_month_name_the_missing_month(manager):
    page = get(manager, "rolls/")  # the latest month whose nightly history ends on its last day
    assert "No nightly decisions in 2026-07" in " ".join(notes(page))
    assert table(page, "matrix") == [
        ["Bucket on 2026-09-30", "Accounts", "→ M0 (%)", "→ M1 (%)", "→ M2 (%)", "→ M3 (%)",
         "→ M4 (%)", "→ M5 (%)", "→ M6 (%)", "→ M6+ (%)", "→ Settled (%)", "→ No decision (%)"],
        ["M0", *EMPTY],
        # CURE settled, CURE2 cured to M0, PART, ROLL and BIG rolled to M2.
        ["M1", "5", "20.0%", "0.0%", "60.0%", *["0.0%"] * 5, "20.0%", "0.0%"],
        ["M2", "1", "0.0%", "0.0%", "0.0%", "100.0%", *["0.0%"] * 6],  # LATE
        *([bucket, *EMPTY] for bucket in ("M3", "M4", "M5", "M6", "M6+")),
    ]  # fmt: skip
    september = table(get(manager, "rolls/?month=2026-09"), "matrix")
    assert september[0][0] == "Bucket on 2026-08-31"
    assert september[1:3] == [
        ["M0", "5", "0.0%", "100.0%", *["0.0%"] * 8],
        ["M1", "2", "0.0%", "0.0%", "50.0%", *["0.0%"] * 5, "50.0%", "0.0%"],  # LATE; SLOW paid
    ]
    assert table(page, "trend") == [
        ["Month", *(f"{b} rolled deeper (%)" for b in ("M0", "M1", "M2", "M3", "M4", "M5", "M6"))],
        ["2026-09", "100.0%", "50.0%", *["—"] * 5],
        ["2026-10", "—", "60.0%", "100.0%", *["—"] * 4],
    ]
    # August has no pair (July is missing): it is not offered, and asking for it shows the default.
    assert "2026-08" not in re.search(r'<select name="month".*?</select>', page, re.S).group(0)
    assert table(get(manager, "rolls/?month=2026-08"), "matrix")[0][0] == "Bucket on 2026-09-30"


def test_cure_rate_by_stage_and_arm(manager):
    page = get(manager, "cure/")
    # Entries whose 30 days passed by the last night (10-31): up to 10-01.
    assert notes(page)[0] == "Stage entries from 2026-06-30 to 2026-10-01."
    assert table(page, "cure") == [
        ["Stage entered", "Arm", "Entries", "Cured within 30 days", "Cure rate (%)"],
        ["Reminder", "challenger", "2", "1", "50.0%"],  # SLOW (08-31) cured, PART did not
        # LATE (08-31); CURE (cured on 10-15), CURE2 (paid 10-20, but next decided none on
        # 10-31, day 31), ROLL, BIG (09-30).
        ["Reminder", "champion", "5", "1", "20.0%"],
        ["Phone", "champion", "1", "0", "0.0%"],  # LATE (09-30)
        ["Total", "", "8", "2", "25.0%"],
    ]
    later = get(manager, "cure/?start=2026-09-01&end=2026-10-31")
    assert "Entries after 2026-10-01 are left out" in " ".join(notes(later))
    assert table(later, "cure")[-1] == ["Total", "", "6", "1", "16.7%"]


def test_recovery_by_stage_arm_product_and_region(manager):
    by_stage = table(get(manager, "cure/"), "recovery")
    assert by_stage == [
        ["Stage", "Entries", "Overdue at entry (¥)", "Recovered within 30 days (¥)",
         "Recovery rate (%)", "All payments within 30 days (¥)"],
        # 5,000 (SLOW) + 2,000 (CURE, capped: it paid 2,500) + 1,000 (CURE2) + 1,000 (PART).
        ["Reminder", "7", "¥57,000.00", "¥9,000.00", "15.8%", "¥9,500.00"],
        ["Phone", "1", "¥5,000.00", "¥0.00", "0.0%", "¥0.00"],
        ["Total", "8", "¥62,000.00", "¥9,000.00", "14.5%", "¥9,500.00"],
    ]  # fmt: skip
    assert table(get(manager, "cure/?by=arm"), "recovery")[1:] == [
        ["challenger", "2", "¥8,000.00", "¥6,000.00", "75.0%", "¥6,000.00"],
        ["champion", "6", "¥54,000.00", "¥3,000.00", "5.6%", "¥3,500.00"],
        ["Total", "8", "¥62,000.00", "¥9,000.00", "14.5%", "¥9,500.00"],
    ]
    assert table(get(manager, "cure/?by=product"), "recovery")[1] == [
        "Consumer instalment loan", "8", "¥62,000.00", "¥9,000.00", "14.5%", "¥9,500.00"
    ]  # fmt: skip
    by_region = get(manager, "cure/?by=region")
    assert 'name="start" value="2026-06-30"' in by_region  # the dates it used, not blanks
    assert table(by_region, "recovery")[1] == [
        "440305 广东省深圳市南山区", "8", "¥62,000.00", "¥9,000.00", "14.5%", "¥9,500.00"
    ]  # fmt: skip


def test_promises_falling_due_kept_and_broken(manager):
    page = get(manager, "visits/?start=2026-10-01&end=2026-10-31")
    assert table(page, "promises") == [
        ["Made on", "Promises", "Promised (¥)", "Kept", "Broken", "Pending", "Kept rate (%)",
         "Paid toward them (¥)"],
        ["Phone call", "3", "¥42,000.00", "1", "2", "0", "33.3%", "¥1,000.00"],  # PART kept
        ["Home visit", "1", "¥1,000.00", "1", "0", "0", "100.0%", "¥1,000.00"],  # on the date
    ]  # fmt: skip
    assert table(page, "steps")[1] == ["Proposed", "1"]  # BIG, home_visit on 10-31
    # Judged on 10-24, BIG's promise (by 10-25) is still pending.
    [call, visit] = q.promises(date(2026, 10, 1), date(2026, 10, 31), today=date(2026, 10, 24))
    assert (call.kept, call.broken, call.pending) == (1, 1, 1)
    assert (visit.kept, visit.broken, visit.pending) == (1, 0, 0)


def test_the_index_gives_a_figure_per_dashboard(manager, settings):
    page = get(manager, "")
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    assert "4 accounts overdue on 2026-10-31, ¥48,000.00 in all" in text
    assert "60.0% of M1 accounts on 2026-09-30 were deeper on 2026-10-31" in text
    assert "25.0% of stage entries from 2026-06-30 to 2026-10-01 cured within 30 days" in text
    for slug in ("portfolio", "rolls", "cure", "visits", "complaints"):
        assert f'href="{BASE}/{slug}/"' in page


FIGURES = [
    ("portfolio/?as_of=2026-10-31", ["buckets"]),
    ("rolls/", ["matrix", "trend"]),
    ("rolls/?month=2026-09", ["matrix"]),
    ("cure/", ["cure", "recovery"]),
    ("cure/?by=region&start=2026-08-01&end=2026-09-30", ["cure", "recovery"]),
    ("visits/?start=2026-10-01&end=2026-10-31", ["steps", "outcomes", "promises"]),
    ("complaints/", ["cases", "refusals"]),
]


@pytest.mark.parametrize(("path", "slugs"), FIGURES)
def test_each_csv_holds_the_figures_of_its_table(manager, path, slugs):
    page = get(manager, path)
    name, _, query = path.partition("/")
    for slug in slugs:
        link = f"{BASE}/{name}/{slug}.csv{'?' + query.lstrip('?') if query else ''}"
        assert f'href="{html.escape(link)}"' in page
        shown = table(page, slug)
        if shown[1:] == [["Nothing to show for this selection."]]:
            shown = shown[:1]
        assert download(manager.get(link)) == plain(shown), slug


def test_only_staff_who_may_read_the_ledger_see_dashboards(nights_of_history, staff):
    agent, manager, supervisor = (
        staff(r) for r in ("field_agent", "strategy_manager", "field_supervisor")
    )
    anonymous = Client()
    for path in [*PAGES, "portfolio/buckets.csv"]:
        url = f"{BASE}/{path}"
        assert agent.get(url).status_code == 403, url
        assert anonymous.get(url).status_code == 302, url
        assert anonymous.get(url)["Location"].startswith("/admin/login/")
        assert manager.get(url).status_code == 200, url
        assert supervisor.get(url).status_code == 200, url
    assert manager.get(f"{BASE}/nothing/").status_code == 404
    assert manager.get(f"{BASE}/rolls/buckets.csv").status_code == 404


# Signing in costs 4 queries (session, user, the user's and the group's permissions); the rest are
# the page's own, whatever the number of accounts.
QUERIES = {"": 12, "portfolio/": 6, "rolls/": 6, "cure/": 7, "visits/": 8, "complaints/": 6}


@pytest.mark.parametrize("path", PAGES)
def test_a_page_takes_a_few_statements_whatever_the_portfolio(
    manager, path, django_assert_max_num_queries
):
    with django_assert_max_num_queries(QUERIES[path]):
        get(manager, path)
