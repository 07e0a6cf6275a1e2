"""The home page and the demo's role logins."""

import pytest
from django.contrib.auth.models import Group, User

from doorstep.intake.importer import import_portfolio
from doorstep.web.domain import ensure_demo_logins
from doorstep.web.roles import ROLES

EMPTY_STATE = "No accounts yet: run doorstep import DIR or doorstep demo."


@pytest.mark.django_db
def test_home_after_import_shows_the_portfolio(client, portfolio_dir):
    import_portfolio(portfolio_dir)

    response = client.get("/", headers={"Accept-Language": "en"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>doorstep</h1>" in html
    assert '<div class="figure" id="accounts">4</div>' in html
    # A0001, A0003 and A0004 are all more than 180 days past due by now; A0002 is settled and
    # leaves the table. (DPD only grows with the clock, so this holds on any later day.)
    assert "<tr><td>M6+</td><td>3</td>" in html
    assert html.count("<tr><td>M") == 1
    assert '<a href="/admin/">' in html
    assert '<a href="/api/docs">' in html
    assert EMPTY_STATE not in html
    assert "3 regions." in html


@pytest.mark.django_db
def test_home_with_an_empty_database_shows_the_empty_state(client):
    response = client.get("/", headers={"Accept-Language": "en"})

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<tr><td colspan="4">{EMPTY_STATE}</td></tr>' in html
    assert '<div class="figure" id="accounts">0</div>' in html
    assert "<tr><td>M" not in html


@pytest.mark.django_db
def test_api_docs_linked_from_home_exist(client):
    assert client.get("/api/docs").status_code == 200


def pw(role: str) -> str:
    return f"pw-{role}"


@pytest.mark.django_db
def test_ensure_demo_logins_creates_one_user_per_role_in_its_group():
    created = ensure_demo_logins(pw)

    codes = [role.code for role in ROLES]
    assert [username for _, username, _ in created] == [*codes, "admin"]
    assert [password for _, _, password in created] == [pw(code) for code in [*codes, "admin"]]
    assert User.objects.count() == len(ROLES) + 1
    assert Group.objects.count() == len(ROLES)
    for code in codes:
        user = User.objects.get(username=code)
        assert list(user.groups.values_list("name", flat=True)) == [code]
        assert user.is_staff is True
        assert user.is_superuser is False
        assert user.check_password(pw(code))
    admin = User.objects.get(username="admin")
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert admin.check_password("pw-admin")


@pytest.mark.django_db
def test_role_permissions_for_posting_payments():
    ensure_demo_logins(pw)

    assert User.objects.get(username="phone_collector").has_perm("ledger.post_payment") is True
    assert User.objects.get(username="strategy_manager").has_perm("ledger.post_payment") is False
    assert User.objects.get(username="strategy_manager").has_perm("ledger.view_account") is True
    posters = {user.username for user in User.objects.all() if user.has_perm("ledger.post_payment")}
    assert posters == {"phone_collector", "collections_supervisor", "admin"}


@pytest.mark.django_db
def test_ensure_demo_logins_twice_creates_no_duplicates():
    ensure_demo_logins(pw)
    first = dict(User.objects.values_list("username", "pk"))

    ensure_demo_logins(lambda role: f"new-{role}")

    assert dict(User.objects.values_list("username", "pk")) == first
    assert Group.objects.count() == len(ROLES)
    assert User.groups.through.objects.count() == len(ROLES)
    collector = User.objects.get(username="phone_collector")
    assert collector.check_password("new-phone_collector")
    role = next(r for r in ROLES if r.code == "phone_collector")
    assert collector.groups.get().permissions.count() == len(role.permissions)


@pytest.mark.django_db(transaction=True)
def test_home_shows_the_stages_of_the_latest_nightly_run(client, portfolio_dir):
    from datetime import date

    from doorstep.strategy.domain import run_nightly

    import_portfolio(portfolio_dir)
    run_nightly(date(2026, 11, 20), by="test")

    html = client.get("/", headers={"Accept-Language": "en"}).content.decode()

    assert "Collection stages decided for 2026-11-20" in html
    # A0001 and A0003 owe ¥3,000 or more after 180 days; A0004 has a complaint open.
    assert '<tr><td title="legal">agency placement or legal referral</td><td>2</td>' in html
    assert '<tr><td title="suspended">suspended</td><td>1</td>' in html
