"""The load test's pieces (docs/loadtest.md): every request the locust scenario sends resolves to
the view it is meant for, the scenario names no endpoint that paths.py lacks, the figures parser
reads locust's CSV, and `prepare` leaves each virtual user what it needs in the database."""

import ast
import importlib.util
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.urls import resolve
from django.utils import timezone

from doorstep.benchmarks.load import (
    PASSWORD,
    SCENARIOS,
    prepare,
    read_stats,
    zone_where_it_is,
)
from tests.conftest import ROOT

LOADTEST = ROOT / "loadtest"


def _paths():
    spec = importlib.util.spec_from_file_location("loadtest_paths", LOADTEST / "paths.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_request_of_the_scenario_resolves_to_its_view():
    paths = _paths()
    ids = {"account": "A00000001", "action": "17", "intent": "PI-0123456789abcdef0123",
           "visit": "V-0123456789abcdef"}  # fmt: skip
    for endpoint, (_template, view_name) in paths.ENDPOINTS.items():
        url = paths.path(endpoint, **ids)
        assert resolve(url).view_name == view_name, endpoint
    assert paths.name("case_view") == "/console/accounts/[account]/"
    assert paths.name("pay_sandbox") == "/my/payments/[intent]/sandbox/"


def test_the_scenario_asks_only_for_endpoints_paths_knows():
    text = (LOADTEST / "locustfile.py").read_text()
    used = set(re.findall(r'self\.(?:get|post)\("(\w+)"', text))
    used |= set(re.findall(r'\bpath\("(\w+)"', text))
    assert used == set(_paths().ENDPOINTS)


def test_each_scenario_names_user_classes_of_the_locustfile():
    # Parsed, not imported: importing locust patches the standard library with gevent.
    tree = ast.parse((LOADTEST / "locustfile.py").read_text())
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    for scenario, names in SCENARIOS.items():
        assert set(names) <= classes, scenario
    assert not set(SCENARIOS["work"]) & set(SCENARIOS["floor"])


def test_the_floors_front_doors_redirect_a_signed_in_user_to_their_page(demo_portfolio):
    """What the floor scenario asks for and expects: 302 from both front doors, for a collector
    and for a borrower signed in as prepare() leaves them."""
    from django.test import Client

    paths = _paths()
    data = prepare(at=timezone.now(), collectors=1, borrowers=1, teams=1, visits=1)
    collector = Client()
    assert collector.login(username=data["collectors"][0]["username"], password=PASSWORD)
    answer = collector.get(paths.path("console_home"))
    assert (answer.status_code, answer["Location"]) == (302, paths.path("call_queue"))

    borrower = Client()
    me = data["borrowers"][0]
    assert borrower.post(paths.path("portal_signin"), {"phone": me["phone"]}).status_code == 302
    code = re.search(
        r'id="demo-code".*?(\d{6})\s*</div>', borrower.get(paths.path("portal_code")).text, re.S
    )
    assert code is not None
    assert borrower.post(paths.path("portal_code"), {"code": code.group(1)}).status_code == 302
    answer = borrower.get(paths.path("portal_accounts"))
    assert (answer.status_code, answer["Location"]) == (
        302,
        paths.path("portal_account", account=me["account"]),
    )


def test_locust_csv_becomes_the_figures(tmp_path):
    (tmp_path / "run_stats.csv").write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
        "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
        "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
        "GET,/my/,10,0,12,13.5,9,40,900,5.25,0.0,12,13,14,15,20,30,40,40,40,40,40\n"
        "POST,/my/,4,1,30,31,20,50,0,2.0,0.5,30,30,40,40,50,50,50,50,50,50,50\n"
        ",Aggregated,14,1,14,18,9,50,640,7.25,0.5,14,15,20,30,40,50,50,50,50,50,50\n"
    )
    figures = read_stats(tmp_path / "run")
    assert figures == {
        "requests": 14, "failures": 1, "requests_per_s": 7.2, "p50_ms": 14.0, "p99_ms": 50.0,
        "endpoints": {
            "GET /my/": {"requests": 10, "failures": 0, "requests_per_s": 5.2, "p50_ms": 12.0,
                         "p99_ms": 40.0},
            "POST /my/": {"requests": 4, "failures": 1, "requests_per_s": 2.0, "p50_ms": 30.0,
                          "p99_ms": 50.0},
        },
    }  # fmt: skip


def test_the_zone_where_it_is_about_eleven():
    at = timezone.now()
    assert at.astimezone(ZoneInfo(zone_where_it_is(11, at))).hour in (10, 11, 12)


@pytest.fixture
def demo_portfolio(tmp_path, transactional_db):
    """A small synthetic portfolio as `doorstep demo` leaves it: imported, templates approved,
    the nightly run of yesterday (call tasks, proposed visits), the role groups."""
    from doorstep.compliance.domain import review_template
    from doorstep.contact.domain import draft_default_templates
    from doorstep.intake.importer import import_portfolio
    from doorstep.strategy.domain import run_nightly
    from doorstep.synth import generate_portfolio
    from doorstep.web.domain import ensure_role_groups

    yesterday = timezone.localdate() - timedelta(days=1)
    generate_portfolio(tmp_path / "p", accounts=1500, seed=42, as_of=yesterday)
    import_portfolio(tmp_path / "p", by="test")
    for template in draft_default_templates(by="writer"):
        review_template(template.pk, by="officer", approve=True, note="test")
    run_nightly(yesterday, by="test")
    ensure_role_groups()


def test_prepare_leaves_each_virtual_user_what_it_needs(demo_portfolio):
    from doorstep.contact.models import OutboundMessage
    from doorstep.ledger.models import Account, Borrower, Region
    from doorstep.ledger.privacy import configured_cipher
    from doorstep.strategy.models import PlannedAction
    from doorstep.visits.models import Visit

    at = timezone.now()
    data = prepare(at=at, collectors=2, borrowers=3, teams=1, visits=2)

    zone = zone_where_it_is(11, at)
    assert set(Region.objects.values_list("time_zone", flat=True)) == {zone}
    assert data["zone"] == zone
    today = at.astimezone(ZoneInfo(zone)).date()
    assert data["today"] == today.isoformat()
    users = get_user_model().objects

    assert [c["username"] for c in data["collectors"]] == ["lt-collector-01", "lt-collector-02"]
    dealt = [tuple(t) for c in data["collectors"] for t in c["tasks"]]
    assert dealt
    assert len(dealt) == len(set(dealt))
    planned = set(PlannedAction.objects.filter(kind="call_task", status="planned")
                  .values_list("pk", "account_id"))  # fmt: skip
    assert set(dealt) == planned
    for row in data["collectors"] + data["agents"]:
        user = users.get(username=row["username"])
        assert user.check_password(PASSWORD)
        assert row["password"] == PASSWORD
    collector = users.get(username="lt-collector-01")
    assert collector.has_perm("contact.add_contact")

    assert len(data["borrowers"]) == 3
    cipher = configured_cipher()
    for row in data["borrowers"]:
        account = Account.objects.select_related("borrower").get(pk=row["account"])
        assert cipher.decrypt(account.borrower.phone_encrypted) == row["phone"]
        assert account.borrower.accounts.count() == 1
        assert Borrower.objects.filter(phone_hash=account.borrower.phone_hash).count() == 1
    assert len({row["phone"] for row in data["borrowers"]}) == 3

    first, second = data["agents"]
    assert (first["username"], second["username"]) == ("lt-agent-01", "lt-agent-02")
    assert first["visits"] == second["visits"]
    assert len(first["visits"]) == 2
    assert sorted(first["check_in"] + second["check_in"]) == sorted(first["visits"])
    for visit in Visit.objects.filter(pk__in=first["visits"]).select_related("team"):
        assert (visit.state, visit.visit_date, visit.team.code) == ("assigned", today, "LT-1")
        assert set(visit.team.members.values_list("user__username", flat=True)) == {
            "lt-agent-01", "lt-agent-02",
        }  # fmt: skip
        assert (today - visit.notice_sent_at.astimezone(ZoneInfo(zone)).date()).days == 4
    assert OutboundMessage.objects.filter(template__code="visit_notice").count() == 2
