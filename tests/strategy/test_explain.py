"""Explain: `doorstep explain` and GET /api/accounts/{id}/decision show every rule and gate with
its figures, and when the stage would change if nothing is paid."""

from datetime import date

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command

from doorstep.api.models import ApiToken
from doorstep.intake.importer import import_portfolio
from tests.strategy.builder import Portfolio

AS_OF = date(2026, 11, 20)


@pytest.fixture
def portfolio(tmp_path):
    p = Portfolio(AS_OF)
    p.account("LATE80", overdue="3500.00", dpd=80)
    p.account("NOCOVER", overdue="5000.00", dpd=95, region="654002")
    import_portfolio(p.write(tmp_path / "p"))


def token_for(*codenames: str) -> str:
    user = User.objects.create_user("reader")
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return ApiToken.issue(user, name="test")[1]


@pytest.mark.django_db
def test_explain_says_when_a_home_visit_becomes_possible(portfolio, capsys):
    call_command("explain", "LATE80", "--as-of", AS_OF.isoformat(), "--lang", "en")
    out = capsys.readouterr().out.splitlines()

    assert out[0] == "LATE80  2026-11-20  stage: phone (phone follow-up)"
    assert out[1] == "why: 80 days overdue with ¥3500.00 unpaid (phone follow-up from day 31)"
    assert (
        "  [ ] home_visit.dpd_90          dpd >= 90 AND overdue_amount >= 3000  [dpd=80, overdue_amount=3500.00]"
        in out
    )
    assert out[-1].startswith(
        "next: home visit becomes possible on 2026-11-30 if ¥3500.00 is still unpaid"
    )


@pytest.mark.django_db
def test_the_decision_api_lists_rules_gates_and_the_next_change(portfolio, client):
    token = token_for("view_decision")
    response = client.get(
        "/api/accounts/NOCOVER/decision?as_of=2026-11-20&lang=en",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["stage"], body["triggers"], body["blocked_by"]) == (
        "phone", ["phone.dpd_31", "home_visit.dpd_90"], ["home_visit.coverage"],
    )  # fmt: skip
    assert body["reasons"] == (
        "95 days overdue with ¥5000.00 unpaid (phone follow-up from day 31); "
        "region 654002 has no field team or contracted agency"
    )
    coverage = next(r for r in body["rules"] if r["id"] == "home_visit.coverage")
    assert coverage == {
        "id": "home_visit.coverage", "stage": "home_visit", "gate": True,
        "when": "region_coverage <> 'none'", "result": False, "skipped": False,
        "figures": {"region_coverage": "none"},
    }  # fmt: skip
    assert body["next_change"]["on"] == "2027-02-13"
    assert body["next_change"]["stage"] == "legal"
    assert body["stored"] is False


@pytest.mark.django_db
def test_the_decision_api_needs_the_permission_and_a_known_account(portfolio, client):
    headers = {"Authorization": f"Bearer {token_for()}"}
    assert client.get("/api/accounts/LATE80/decision", headers=headers).status_code == 403
    User.objects.get().user_permissions.add(Permission.objects.get(codename="view_decision"))
    missing = client.get("/api/accounts/NOPE/decision", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "decision.no_account")
