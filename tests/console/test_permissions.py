"""Every URL × every role: allowed, or refused as specified (DOMAIN §1). The admin and the REST
API have their own checks (Django's admin permissions; tests/api); every other URL must appear
here, and a test fails when a new one does not."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from doorstep.web.domain import ensure_demo_logins
from doorstep.web.roles import ROLES
from tests.arrangements.conftest import AS_OF, accounts, local  # noqa: F401

ROLE_CODES = [r.code for r in ROLES]
READERS = {"strategy_manager", "phone_collector", "collections_supervisor", "field_supervisor",
           "compliance_officer"}  # fmt: skip
EVERYONE = {*ROLE_CODES, "admin", "anonymous"}
STAFF = {*ROLE_CODES, "admin"}

# name -> (path, {role: status} for the roles allowed, status for the others, status anonymous)
# "in" stands for a page a role may open; POST-only views answer a GET with 405 once allowed.
OPEN, POST_ONLY = 200, 405


def matrix(ids):
    a, c, v = ids["arrangement"], ids["case"], ids["visit"]
    staff = lambda allowed, ok=OPEN: (allowed | {"admin"}, ok, 403, 302)  # noqa: E731
    return {
        "home": ("/", (EVERYONE, OPEN, None, OPEN)),
        "set_language": ("/i18n/setlang/", (EVERYONE, 302, None, 302)),
        "console-home": ("/console/", staff(READERS | {"agency"}, 302)),
        "console-calls": ("/console/calls/", staff({"phone_collector", "collections_supervisor"})),
        "console-call-claim": ("/console/calls/1/claim",
                               staff({"phone_collector", "collections_supervisor"}, POST_ONLY)),
        "console-account": ("/console/accounts/A1/", staff(READERS)),
        "console-reveal": ("/console/accounts/A1/reveal", staff(READERS, POST_ONLY)),
        # POST only, for everyone signed in; who may record is checked on the POST (test_calls).
        "console-call": ("/console/accounts/A1/call", (STAFF, POST_ONLY, None, 302)),
        "console-placements": ("/console/placements/", staff({"collections_supervisor"})),
        "console-placement-decide": ("/console/placements/A1/",
                                     staff({"collections_supervisor"}, POST_ONLY)),
        # Only a login that is an agency's Member; the demo's agency login is not one here.
        "console-agency": ("/console/agency/", (set(), None, 403, 302)),
        "console-board": ("/console/visits/board/", staff({"field_supervisor"})),
        "console-refusals": ("/console/refusals/", staff({"compliance_officer"})),
        "console-strategy": ("/console/strategy/", staff(
            {"strategy_manager", "collections_supervisor", "compliance_officer"})),
        "console-strategy-version": ("/console/strategy/versions/default/1/", staff(
            {"strategy_manager", "collections_supervisor", "compliance_officer"})),
        "console-strategy-edit": ("/console/strategy/edit/", staff({"strategy_manager"})),
        **{
            name: (url, staff({"strategy_manager"}, POST_ONLY))
            for name, url in {
                "console-strategy-check": "/console/strategy/edit/check/",
                "console-strategy-impact": "/console/strategy/edit/impact/",
                "console-strategy-publish": "/console/strategy/edit/publish/",
                "console-strategy-shares": "/console/strategy/shares/",
            }.items()
        },
        "console-dashboards": ("/console/dashboards/", staff(READERS)),
        "console-dashboard": ("/console/dashboards/portfolio/", staff(READERS)),
        "console-dashboard-csv": ("/console/dashboards/portfolio/buckets.csv", staff(READERS)),
        "queue-arrangements": ("/staff/arrangements/", staff(
            {"phone_collector", "collections_supervisor", "compliance_officer"})),
        "queue-arrangement": (f"/staff/arrangements/{a}/", staff(
            {"phone_collector", "collections_supervisor", "compliance_officer"})),
        "queue-arrangement-decide": (f"/staff/arrangements/{a}/decide", staff(
            {"phone_collector", "collections_supervisor"}, POST_ONLY)),
        "queue-arrangement-evidence": (f"/staff/arrangements/{a}/evidence/{ids['evidence']}",
            staff({"phone_collector", "collections_supervisor", "compliance_officer"})),
        "queue-cases": ("/staff/cases/", staff({"collections_supervisor", "compliance_officer"})),
        "queue-case-answer": (f"/staff/cases/{c}/answer",
                              staff({"collections_supervisor"}, POST_ONLY)),
        "visit-review": ("/visits/review/", staff({"field_supervisor"})),
        # The field pages: a login that is not a field agent's finds nothing (404).
        "field-day": ("/field/", (set(), None, 404, 302)),
        "field-visit": (f"/field/visits/{v}/", (set(), None, 404, 302)),
        "field-check-in": (f"/field/visits/{v}/check-in", (set(), None, 405, 302)),
        "field-outcome": (f"/field/visits/{v}/outcome", (set(), None, 405, 302)),
        "field-evidence": (f"/field/visits/{v}/evidence", (set(), None, 405, 302)),
        "field-case-file": (f"/field/visits/{v}/case-file.pdf", (set(), None, 404, 302)),
        # Public pages: the same for everyone.
        "visit-answer": ("/v/not-a-token/", (EVERYONE, 404, None, 404)),
        "visit-letter": ("/v/not-a-token/letter.pdf", (EVERYONE, 404, None, 404)),
        "verify": ("/verify/", (EVERYONE, OPEN, None, OPEN)),
        "credential-photo": ("/verify/photo/FA-X", (EVERYONE, 404, None, 404)),
        "certificate-check": ("/certificate/SC-A1-20261120/", (EVERYONE, OPEN, None, OPEN)),
        "pay-callback": ("/pay/callback/", (EVERYONE, POST_ONLY, None, POST_ONLY)),
        # The portal: a borrower's session or nothing, staff logins included.
        "portal-signin": ("/my/", (EVERYONE, OPEN, None, OPEN)),
        "portal-code": ("/my/code/", (EVERYONE, 302, None, 302)),
        "portal-signout": ("/my/sign-out/", (EVERYONE, POST_ONLY, None, POST_ONLY)),
        **{
            name: (url, (EVERYONE, 302, None, 302))
            for name, url in {
                "portal-accounts": "/my/accounts/",
                "portal-account": "/my/a/A1/",
                "portal-pay": "/my/a/A1/pay/",
                "portal-plan-request": "/my/a/A1/plan/",
                "portal-plan": f"/my/a/A1/plan/{a}/",
                "portal-plan-evidence": f"/my/a/A1/plan/{a}/evidence/{ids['evidence']}",
                "portal-cases": "/my/a/A1/cases/",
                "portal-case": f"/my/a/A1/cases/{c}/",
                "portal-record-pdf": "/my/a/A1/record.pdf",
                "portal-record-csv": "/my/a/A1/record.csv",
                "portal-certificate": "/my/a/A1/certificate.pdf",
                "portal-payment": "/my/payments/PI-x/",
                "pay-sandbox": "/my/payments/PI-x/sandbox/",
            }.items()
        },
    }  # fmt: skip


def _named_urls(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _named_urls(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.name


@pytest.fixture
def world(accounts):  # noqa: F811
    from doorstep.arrangements.domain import Document, request_arrangement
    from doorstep.complaints.domain import file_case

    ensure_demo_logins(lambda role: f"pw-{role}")
    arrangement = request_arrangement(
        "A1", kind="extension", first_due=AS_OF + timedelta(days=10), by="b", at=local(AS_OF),
        from_portal=True, documents=[Document("payslip", "p.pdf", b"%PDF-1.4")],
    )  # fmt: skip
    case = file_case("A1", kind="complaint", category="conduct", text="态度很差，说话难听。",
                     by="b", at=local(AS_OF), from_portal=True)  # fmt: skip
    return {"arrangement": arrangement.pk, "evidence": arrangement.evidence.get().pk,
            "case": case.pk, "visit": "V-none"}  # fmt: skip


def test_every_url_is_in_the_matrix(world):
    names = {
        name
        for route, name in _named_urls(get_resolver().url_patterns)
        if not route.startswith(("admin/", "api/"))
    }
    assert names == set(matrix(world))


@pytest.mark.parametrize("who", sorted(EVERYONE))
def test_each_role_gets_what_the_matrix_says(world, who):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if who != "anonymous":
        client.force_login(get_user_model().objects.get(username=who))
    wrong = []
    for name, (url, (allowed, ok, refused, anonymous)) in matrix(world).items():
        expected = anonymous if who == "anonymous" else (ok if who in allowed else refused)
        got = client.get(url).status_code
        if got != expected:
            wrong.append(f"{name} {url}: {got}, expected {expected}")
    assert wrong == []
