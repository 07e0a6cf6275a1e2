"""Ledger writes: payments, reversals, the append-only entries and the projection check."""

from datetime import UTC, date, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import translation

from doorstep.intake.importer import import_portfolio
from doorstep.ledger.domain import (
    LedgerDifference,
    check_ledger,
    place_hold,
    post_payment,
    post_waiver,
    refresh_projection,
    reverse_entry,
)
from doorstep.ledger.enums import AccountStatus, EntryKind, EntrySource
from doorstep.ledger.errors import HoldRejected, PaymentRejected, WaiverRejected
from doorstep.ledger.models import Account, Hold, LedgerEntry
from doorstep.ledger.queries import account_position

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PAID_AT = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 10:00 on the 21st in Shanghai
AS_OF = date(2026, 11, 21)


@pytest.fixture
def portfolio(portfolio_dir):
    import_portfolio(portfolio_dir)


def pay(account_id: str, amount_cents: int, **kwargs):
    return post_payment(
        account_id, amount_cents=amount_cents, paid_at=PAID_AT, by="teller", at=NOW, **kwargs
    )


@pytest.mark.django_db
def test_post_payment_updates_the_projection(portfolio):
    before = account_position(Account.objects.get(pk="A0001"), AS_OF)

    posted = pay("A0001", 50000, reference="BANK-7")

    account = Account.objects.get(pk="A0001")
    assert posted.replayed is False
    assert posted.entry.kind == EntryKind.PAYMENT
    assert posted.entry.amount_cents == 50000
    assert posted.entry.effective_on == AS_OF
    assert posted.entry.recorded_at == NOW
    assert account.credited_cents == 368000 + 50000
    assert account.balance_cents == 904000 - 50000
    assert account.status == AccountStatus.ACTIVE
    after = account_position(account, AS_OF)
    assert before.overdue == 692000
    assert after.overdue == 642000
    assert after.outstanding == 854000
    assert after.credited == 418000
    assert check_ledger() == (4, [])


@pytest.mark.django_db
def test_post_payment_settles_on_the_local_date(portfolio):
    pay("A0004", 183600)

    account = Account.objects.get(pk="A0004")
    assert account.status == AccountStatus.SETTLED
    assert account.settled_on == AS_OF
    assert account.balance_cents == 0
    assert check_ledger() == (4, [])


@pytest.mark.django_db
def test_post_payment_with_a_known_key_replays(portfolio):
    first = pay("A0001", 10000, idempotency_key="feed:1")

    again = pay("A0001", 10000, idempotency_key="feed:1")

    assert again.replayed is True
    assert again.entry.pk == first.entry.pk
    assert LedgerEntry.objects.filter(source=EntrySource.API).count() == 1
    assert Account.objects.get(pk="A0001").credited_cents == 368000 + 10000


@pytest.mark.django_db
def test_post_payment_refuses_a_payment_dated_in_the_future(portfolio):
    with pytest.raises(PaymentRejected) as refused:
        post_payment("A0001", amount_cents=100, paid_at=NOW.replace(hour=13), by="teller", at=NOW)

    assert refused.value.code == "payment.future"
    assert LedgerEntry.objects.filter(source=EntrySource.API).count() == 0


@pytest.mark.django_db
def test_ledger_refusals_keep_their_code_and_english_and_read_in_chinese(portfolio):
    """What a page shows (`translated()`) is in its reader's language; `message` (the API's
    detail, the logs) stays English whatever language is active when the refusal is raised."""
    entries, holds = LedgerEntry.objects.count(), Hold.objects.count()
    place_hold("A0001", kind="dispute", since=AS_OF, by="t")
    refused = []
    with translation.override("zh-hans"):
        for attempt in (
            lambda: pay("A0001", 904001),
            lambda: pay("A9999", 100),
            lambda: place_hold("A0001", kind="dispute", since=AS_OF, by="t"),
            lambda: place_hold("A0001", kind="holiday", since=AS_OF, by="t"),
            lambda: post_waiver("A0001", amount_cents=100, by="t", reference="W-1", note="",
                                at=NOW),
        ):  # fmt: skip
            with pytest.raises((PaymentRejected, HoldRejected, WaiverRejected)) as caught:
                attempt()
            refused.append(caught.value)
        chinese = [r.translated() for r in refused]

    assert [(r.code, r.field, r.message) for r in refused] == [
        ("payment.overpayment", "amount", "amount exceeds what is owed (9040.00)"),
        ("payment.no_account", "", "account A9999 does not exist"),
        ("hold.duplicate", "", "this hold is already recorded"),
        ("hold.kind", "kind", "unknown hold kind 'holiday'"),
        ("waiver.too_much", "amount", "only 0.00 of charges is left to waive"),
    ]
    assert chinese == [
        "金额超过未还余额（9040.00 元）",
        "账户 A9999 不存在",
        "该暂停已登记",
        "未知的暂停类型 'holiday'",
        "可减免的费用仅剩 0.00 元",
    ]
    assert (LedgerEntry.objects.count(), Hold.objects.count()) == (entries, holds + 1)


@pytest.mark.django_db
def test_reverse_entry_appends_a_negative_twin_and_reopens_a_settled_account(portfolio):
    original = pay("A0004", 183600).entry
    entries_before = LedgerEntry.objects.count()

    reversal = reverse_entry(original.pk, by="supervisor", reason="bounced", at=NOW)

    assert LedgerEntry.objects.count() == entries_before + 1
    assert reversal.reverses_id == original.pk
    assert reversal.kind == EntryKind.PAYMENT
    assert reversal.amount_cents == -183600
    assert reversal.effective_on == original.effective_on
    assert reversal.source == EntrySource.STAFF
    assert reversal.recorded_by == "supervisor"
    assert reversal.note == "bounced"
    original.refresh_from_db()
    assert original.amount_cents == 183600  # untouched
    account = Account.objects.get(pk="A0004")
    assert account.status == AccountStatus.ACTIVE
    assert account.settled_on is None
    assert account.balance_cents == 183600
    assert check_ledger() == (4, [])


@pytest.mark.django_db
def test_reverse_entry_refuses_a_second_reversal(portfolio):
    original = pay("A0001", 10000).entry
    reversal = reverse_entry(original.pk, by="supervisor", reason="duplicate", at=NOW)
    count = LedgerEntry.objects.count()

    with pytest.raises(PaymentRejected) as twice:
        reverse_entry(original.pk, by="supervisor", reason="again", at=NOW)
    with pytest.raises(PaymentRejected) as of_reversal:
        reverse_entry(reversal.pk, by="supervisor", reason="undo", at=NOW)

    assert twice.value.code == "entry.already_reversed"
    assert of_reversal.value.code == "entry.reversal"
    assert LedgerEntry.objects.count() == count
    assert Account.objects.get(pk="A0001").credited_cents == 368000


@pytest.mark.django_db
def test_reversing_an_imported_payment_reopens_an_imported_settlement(portfolio):
    last = LedgerEntry.objects.get(reference="P0007")
    assert Account.objects.get(pk="A0002").settled_on == date(2026, 8, 20)

    reverse_entry(last.pk, by="supervisor", reason="chargeback", at=NOW)

    account = Account.objects.get(pk="A0002")
    assert (account.status, account.settled_on, account.balance_cents) == ("active", None, 103000)
    assert check_ledger() == (4, [])


# --- append-only ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_entry_cannot_be_saved_again(portfolio):
    entry = LedgerEntry.objects.get(reference="P0001")
    entry.amount_cents = 1

    with pytest.raises(ValueError, match="append-only"):
        entry.save()

    assert LedgerEntry.objects.get(reference="P0001").amount_cents == 106000


@pytest.mark.django_db
def test_the_database_refuses_a_raw_update_of_an_entry(portfolio):
    entry = LedgerEntry.objects.get(reference="P0001")

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE ledger_ledgerentry SET amount_cents = 1 WHERE id = %s", [entry.pk])

    assert LedgerEntry.objects.get(pk=entry.pk).amount_cents == 106000


@pytest.mark.django_db
def test_the_database_refuses_a_queryset_update_of_entries(portfolio):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(account_id="A0001").update(note="edited")

    assert LedgerEntry.objects.filter(account_id="A0001", note="").count() == 4


@pytest.mark.django_db
def test_an_entry_cannot_be_deleted(portfolio):
    entry = LedgerEntry.objects.get(reference="P0001")

    with pytest.raises(ValueError, match="append-only"):
        entry.delete()

    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


# --- projection check ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_check_ledger_is_clean_after_import(portfolio):
    assert check_ledger() == (4, [])


@pytest.mark.django_db
def test_check_ledger_reports_a_tampered_projection_and_refresh_repairs_it(portfolio):
    Account.objects.filter(pk="A0003").update(credited_cents=F("credited_cents") + 500)

    checked, differences = check_ledger()

    assert checked == 4
    assert differences == [LedgerDifference("A0003", "credited_cents", 106000, 105500)]

    assert refresh_projection() == 1

    assert check_ledger() == (4, [])
    assert Account.objects.get(pk="A0003").credited_cents == 105500
    assert refresh_projection() == 0


@pytest.mark.django_db
def test_refresh_projection_restores_a_settlement_for_the_named_accounts_only(portfolio):
    Account.objects.filter(pk="A0002").update(status=AccountStatus.ACTIVE, settled_on=None)
    Account.objects.filter(pk="A0001").update(credited_cents=0)

    assert refresh_projection(["A0002"]) == 1

    account = Account.objects.get(pk="A0002")
    assert (account.status, account.settled_on) == (AccountStatus.SETTLED, date(2026, 8, 20))
    assert [(d.account_id, d.field) for d in check_ledger()[1]] == [("A0001", "credited_cents")]
