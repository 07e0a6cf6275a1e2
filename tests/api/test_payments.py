"""POST /api/payments: authentication, permission, idempotency, validation and local dates."""

import io
from datetime import date

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from doorstep.api.models import ApiToken
from doorstep.intake.importer import import_portfolio
from doorstep.ledger.enums import AccountStatus, EntryKind, EntrySource
from doorstep.ledger.models import Account, IdempotencyRecord, LedgerEntry

URL = "/api/payments"
CSRF = "a" * 32  # any 32 alphanumerics is a valid CSRF secret for Django's middleware

# 20:30 UTC on 20 November is already 04:30 on the 21st in Asia/Shanghai.
LATE_UTC = "2026-11-20T20:30:00Z"
# 17:30 UTC is 01:30 on the 21st in Shanghai but still 23:30 on the 20th in Asia/Urumqi.
URUMQI_EVENING = "2026-11-20T17:30:00Z"


@pytest.fixture
def portfolio(portfolio_dir):
    import_portfolio(portfolio_dir)


def make_user(username: str, *, can_post: bool) -> User:
    user = User.objects.create_user(username, password="irrelevant-pw-1")
    if can_post:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="ledger", codename="post_payment")
        )
    return user


@pytest.fixture
def poster() -> User:
    return make_user("bank-feed", can_post=True)


@pytest.fixture
def token(poster) -> str:
    return ApiToken.issue(poster, "bank feed")[1]


def api_client() -> Client:
    # A real API client is not exempt from CSRF checks the way Django's default test client is.
    return Client(enforce_csrf_checks=True)


def post(client: Client, body: dict, *, token: str | None = None, key: str | None = "k-1", **extra):
    headers = dict(extra)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(URL, body, content_type="application/json", headers=headers)


def payment(account_id: str = "A0001", amount: str = "100.00", paid_at: str = LATE_UTC, **more):
    return {"account_id": account_id, "amount": amount, "paid_at": paid_at, **more}


def api_entries() -> int:
    return LedgerEntry.objects.filter(source=EntrySource.API).count()


def balance(account_id: str) -> int:
    return Account.objects.get(pk=account_id).balance_cents


# --- authentication and permission ---------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_post_is_401_and_posts_nothing(portfolio):
    response = post(api_client(), payment())

    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}
    assert api_entries() == 0
    assert IdempotencyRecord.objects.count() == 0
    assert balance("A0001") == 904000


@pytest.mark.django_db
def test_unknown_bearer_token_is_401(portfolio):
    response = post(api_client(), payment(), token="ds_not-a-token")

    assert response.status_code == 401
    assert api_entries() == 0


@pytest.mark.django_db
def test_revoked_token_is_401(portfolio, poster):
    row, text = ApiToken.issue(poster, "old feed")
    row.revoked_at = timezone.now()
    row.save(update_fields=["revoked_at"])

    response = post(api_client(), payment(), token=text)

    assert response.status_code == 401
    assert api_entries() == 0


@pytest.mark.django_db
def test_token_of_inactive_user_is_401(portfolio, poster, token):
    poster.is_active = False
    poster.save(update_fields=["is_active"])

    response = post(api_client(), payment(), token=token)

    assert response.status_code == 401
    assert api_entries() == 0


@pytest.mark.django_db
def test_user_without_permission_is_403(portfolio):
    clerk = make_user("clerk", can_post=False)
    text = ApiToken.issue(clerk, "no rights")[1]

    response = post(api_client(), payment(), token=text)

    assert response.status_code == 403
    assert response.json() == {"detail": "not allowed to post payments"}
    assert api_entries() == 0
    assert IdempotencyRecord.objects.count() == 0


# --- posting ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_payment_is_201_with_exact_figures_and_shanghai_date(portfolio, poster, token):
    response = post(api_client(), payment(payment_id="BANK-1"), token=token, key="pay-1")

    assert response.status_code == 201
    entry = LedgerEntry.objects.get(source=EntrySource.API)
    assert response.json() == {
        "entry_id": entry.pk,
        "account_id": "A0001",
        "amount": "100.00",
        "paid_at": LATE_UTC,
        "effective_on": "2026-11-21",
        "payment_id": "BANK-1",
        "account_status": "active",
        "account_balance": "8940.00",
        "replayed": False,
    }
    assert entry.kind == EntryKind.PAYMENT
    assert entry.amount_cents == 10000
    assert entry.effective_on == date(2026, 11, 21)
    assert entry.recorded_by == "bank-feed"
    assert entry.reference == "BANK-1"
    assert balance("A0001") == 894000
    assert IdempotencyRecord.objects.get().key == f"{poster.pk}:pay-1"


@pytest.mark.django_db
def test_effective_on_follows_the_account_region_zone_urumqi(portfolio, token):
    response = post(api_client(), payment("A0003", paid_at=URUMQI_EVENING), token=token)

    assert response.status_code == 201
    body = response.json()
    # Already the 21st in Shanghai, still the 20th where the borrower lives.
    assert body["effective_on"] == "2026-11-20"
    assert body["account_balance"] == "5175.00"
    assert LedgerEntry.objects.get(source=EntrySource.API).effective_on == date(2026, 11, 20)


@pytest.mark.django_db
def test_retry_with_same_key_and_body_replays_the_first_posting(portfolio, token):
    client = api_client()
    first = post(client, payment(), token=token, key="retry-me")

    again = post(client, payment(), token=token, key="retry-me")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert api_entries() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert balance("A0001") == 894000


@pytest.mark.django_db
def test_same_key_different_body_is_409_and_posts_nothing_new(portfolio, token):
    client = api_client()
    post(client, payment(amount="100.00"), token=token, key="k-409")

    response = post(client, payment(amount="100.01"), token=token, key="k-409")

    assert response.status_code == 409
    assert response.json()["code"] == "payment.idempotency_conflict"
    assert api_entries() == 1
    assert balance("A0001") == 894000


@pytest.mark.django_db
def test_idempotency_keys_are_per_user(portfolio, token):
    other = ApiToken.issue(make_user("second-feed", can_post=True), "second")[1]
    client = api_client()
    post(client, payment(), token=token, key="shared")

    response = post(client, payment(), token=other, key="shared")

    assert response.status_code == 201
    assert api_entries() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", [None, "", "   ", "x" * 129])
def test_missing_or_bad_idempotency_key_is_400(portfolio, token, key):
    response = post(api_client(), payment(), token=token, key=key)

    assert response.status_code == 400
    assert response.json()["code"] == "payment.idempotency_key"
    assert api_entries() == 0


@pytest.mark.django_db
def test_unknown_account_is_404(portfolio, token):
    response = post(api_client(), payment("A9999"), token=token)

    assert response.status_code == 404
    assert response.json() == {
        "code": "payment.no_account",
        "detail": "account A9999 does not exist",
    }
    assert api_entries() == 0
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["100.001", "0.005", "0", "0.00", "-5.00"])
def test_amount_with_three_decimals_or_not_positive_is_422(portfolio, token, amount):
    response = post(api_client(), payment(amount=amount), token=token)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "body", "amount"]
    assert api_entries() == 0
    assert balance("A0001") == 904000


@pytest.mark.django_db
def test_naive_paid_at_is_422(portfolio, token):
    response = post(api_client(), payment(paid_at="2026-11-20T20:30:00"), token=token)

    assert response.status_code == 422
    assert response.json()["code"] == "payment.naive_time"
    assert api_entries() == 0


@pytest.mark.django_db
def test_more_than_owed_is_422(portfolio, token):
    response = post(api_client(), payment("A0004", amount="1836.01"), token=token)

    assert response.status_code == 422
    assert response.json()["code"] == "payment.overpayment"
    assert api_entries() == 0


@pytest.mark.django_db
def test_paying_the_whole_balance_settles_the_account(portfolio, token):
    response = post(api_client(), payment("A0004", amount="1836.00"), token=token)

    assert response.status_code == 201
    body = response.json()
    assert body["account_status"] == "settled"
    assert body["account_balance"] == "0.00"
    assert body["effective_on"] == "2026-11-21"
    account = Account.objects.get(pk="A0004")
    assert account.status == AccountStatus.SETTLED
    assert account.settled_on == date(2026, 11, 21)
    assert account.balance_cents == 0


@pytest.mark.django_db
def test_payment_to_a_settled_account_is_422(portfolio, token):
    before = LedgerEntry.objects.count()

    response = post(api_client(), payment("A0002", amount="10.00"), token=token)

    assert response.status_code == 422
    assert response.json() == {
        "code": "payment.account_settled",
        "detail": "account A0002 is already settled",
    }
    assert LedgerEntry.objects.count() == before
    assert Account.objects.get(pk="A0002").settled_on == date(2026, 8, 20)


@pytest.mark.django_db
def test_duplicate_payment_reference_is_409(portfolio, token):
    response = post(api_client(), payment(payment_id="P0001"), token=token, key="new-key")

    assert response.status_code == 409
    assert response.json()["code"] == "payment.duplicate_reference"
    assert api_entries() == 0


# --- session authentication ----------------------------------------------------------------------


@pytest.mark.django_db
def test_session_post_with_csrf_token_is_accepted(portfolio, poster):
    client = api_client()
    client.force_login(poster)
    client.cookies["csrftoken"] = CSRF

    response = post(client, payment(), **{"X-CSRFToken": CSRF})

    assert response.status_code == 201
    assert response.json()["account_balance"] == "8940.00"
    assert api_entries() == 1


@pytest.mark.django_db
def test_session_post_without_csrf_token_is_refused(portfolio, poster):
    client = api_client()
    client.force_login(poster)

    response = post(client, payment())

    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF check Failed"}
    assert api_entries() == 0


@pytest.mark.django_db
def test_session_post_with_wrong_csrf_token_is_refused(portfolio, poster):
    client = api_client()
    client.force_login(poster)
    client.cookies["csrftoken"] = CSRF

    response = post(client, payment(), **{"X-CSRFToken": "b" * 32})

    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF check Failed"}
    assert api_entries() == 0


@pytest.mark.django_db
def test_session_user_without_permission_is_403(portfolio):
    client = api_client()
    client.force_login(make_user("viewer", can_post=False))
    client.cookies["csrftoken"] = CSRF

    response = post(client, payment(), **{"X-CSRFToken": CSRF})

    assert response.status_code == 403
    assert response.json() == {"detail": "not allowed to post payments"}
    assert api_entries() == 0


@pytest.mark.django_db
def test_bearer_token_needs_no_csrf_token_even_with_a_session(portfolio, poster, token):
    client = api_client()
    client.force_login(make_user("someone-else", can_post=False))

    response = post(client, payment(), token=token)

    assert response.status_code == 201
    assert LedgerEntry.objects.get(source=EntrySource.API).recorded_by == "bank-feed"


# --- documentation and token command -------------------------------------------------------------


@pytest.mark.django_db
def test_openapi_document_lists_payments():
    response = Client().get("/api/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert list(paths["/api/payments"]) == ["post"]
    assert set(paths["/api/payments"]["post"]["responses"]) == {
        "200",
        "201",
        "400",
        "404",
        "409",
        "422",
    }


@pytest.mark.django_db
def test_api_token_command_prints_a_working_token(portfolio, poster):
    out = io.StringIO()

    call_command(
        "api_token", "bank-feed", "--name", "nightly feed", stdout=out, stderr=io.StringIO()
    )

    text = out.getvalue().strip()
    row = ApiToken.objects.get()
    assert row.name == "nightly feed"
    assert row.user == poster
    assert row.key_hash == ApiToken.hash(text)
    assert row.prefix == text[:8]
    assert post(api_client(), payment(), token=text).status_code == 201


@pytest.mark.django_db
def test_api_token_command_names_an_unknown_user():
    with pytest.raises(CommandError, match="user 'nobody' does not exist"):
        call_command("api_token", "nobody", "--name", "x", stdout=io.StringIO())

    assert ApiToken.objects.count() == 0
