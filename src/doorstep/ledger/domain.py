"""Write operations on the ledger. Each runs in one transaction, locks what it changes, appends
entries (never edits them) and keeps the account projection in step."""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from doorstep.audit.domain import record
from doorstep.ledger.engine.positions import CHARGE_KINDS
from doorstep.ledger.enums import AccountStatus, EntryKind, EntrySource, HoldKind
from doorstep.ledger.errors import (
    HoldRejected,
    IdempotencyConflict,
    PaymentRejected,
    WaiverRejected,
)
from doorstep.ledger.models import Account, Hold, IdempotencyRecord, LedgerEntry
from doorstep.ledger.queries import days_before_as_of_sql, locked_account
from doorstep.money import yuan


@dataclass(frozen=True)
class PostedPayment:
    entry: LedgerEntry
    account: Account
    replayed: bool  # True when an idempotent retry returned the first posting


def local_date(account: Account, at: datetime) -> date:
    """The business date of an instant for this account: its region's calendar day."""
    return at.astimezone(ZoneInfo(account.borrower.region.time_zone)).date()


def request_fingerprint(**fields) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def post_payment(
    account_id: str,
    *,
    amount_cents: int,
    paid_at: datetime,
    by: str,
    source: str = EntrySource.API,
    reference: str | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> PostedPayment:
    """Record money received. Side effects: a payment entry; the account's projection; the account
    settled when nothing is left outstanding; an idempotency record when a key is given; an audit
    entry (payment.posted; none for a replayed retry).

    Raises PaymentRejected (unknown or settled account, bad amount, more than is owed) and
    IdempotencyConflict (key reused for a different request).
    """
    at = at or timezone.now()
    if timezone.is_naive(paid_at):
        raise PaymentRejected(
            gettext_noop("paid_at must carry a UTC offset"), code="payment.naive_time",
            field="paid_at",
        )  # fmt: skip
    if paid_at > at:
        raise PaymentRejected(
            gettext_noop("paid_at is in the future"), code="payment.future", field="paid_at"
        )
    fingerprint = request_fingerprint(
        account_id=account_id,
        amount_cents=amount_cents,
        paid_at=paid_at.isoformat(),
        reference=reference,
    )
    with transaction.atomic():
        account = locked_account(account_id)
        if account is None:
            raise PaymentRejected(
                gettext_noop("account %(account)s does not exist"), code="payment.no_account",
                params={"account": account_id},
            )  # fmt: skip
        if idempotency_key:
            previous = (
                IdempotencyRecord.objects.select_related("entry")
                .filter(key=idempotency_key)
                .first()
            )
            if previous is not None:
                if previous.fingerprint != fingerprint:
                    raise IdempotencyConflict(
                        gettext_noop(
                            "this idempotency key was already used for a different payment"
                        ),
                        code="payment.idempotency_conflict",
                    )
                return PostedPayment(previous.entry, account, replayed=True)
        if amount_cents <= 0:
            raise PaymentRejected(
                gettext_noop("amount must be positive"), code="payment.not_positive",
                field="amount",
            )  # fmt: skip
        if account.status == AccountStatus.SETTLED:
            raise PaymentRejected(
                gettext_noop("account %(account)s is already settled"),
                code="payment.account_settled", params={"account": account.id},
            )  # fmt: skip
        if reference and LedgerEntry.objects.filter(reference=reference).exists():
            raise PaymentRejected(
                gettext_noop("payment %(reference)s is already posted"),
                code="payment.duplicate_reference", field="reference",
                params={"reference": reference},
            )  # fmt: skip
        if amount_cents > account.balance_cents:
            raise PaymentRejected(
                gettext_noop("amount exceeds what is owed (%(owed)s)"),
                code="payment.overpayment", field="amount",
                params={"owed": yuan(account.balance_cents)},
            )  # fmt: skip
        effective_on = local_date(account, paid_at)
        before = {"credited_cents": account.credited_cents, "status": account.status}
        entry = LedgerEntry.objects.create(
            account=account,
            kind=EntryKind.PAYMENT,
            amount_cents=amount_cents,
            effective_on=effective_on,
            occurred_at=paid_at,
            reference=reference,
            source=source,
            recorded_by=by,
            recorded_at=at,
        )
        account.credited_cents += amount_cents
        update = ["credited_cents"]
        if account.balance_cents <= 0:
            account.status = AccountStatus.SETTLED
            account.settled_on = effective_on
            update += ["status", "settled_on"]
        account.save(update_fields=update)
        if idempotency_key:
            IdempotencyRecord.objects.create(
                key=idempotency_key, fingerprint=fingerprint, entry=entry, created_at=at
            )
        record(
            "payment.posted",
            actor=by,
            obj=account,
            at=at,
            data={
                "entry": entry.pk,
                "amount_cents": amount_cents,
                "paid_at": paid_at,
                "effective_on": effective_on,
                "reference": reference,
                "source": source,
                "before": before,
                "after": {"credited_cents": account.credited_cents, "status": account.status},
            },
        )
    return PostedPayment(entry, account, replayed=False)


def reverse_entry(
    entry_id: int, *, by: str, reason: str, at: datetime | None = None
) -> LedgerEntry:
    """Cancel an entry by appending its negative twin. Side effects: the projection; a settled
    account whose balance reopens becomes active again; an audit entry (payment.reversed, or
    entry.reversed for a charge or waiver)."""
    at = at or timezone.now()
    with transaction.atomic():
        original = LedgerEntry.objects.select_related("account").get(pk=entry_id)
        account = locked_account(original.account_id)
        if original.reverses_id is not None:
            raise PaymentRejected(
                gettext_noop("a reversal cannot itself be reversed"), code="entry.reversal"
            )
        if LedgerEntry.objects.filter(reverses=original).exists():
            raise PaymentRejected(
                gettext_noop("entry is already reversed"), code="entry.already_reversed"
            )
        before = {
            "credited_cents": account.credited_cents,
            "charged_cents": account.charged_cents,
            "status": account.status,
        }
        reversal = LedgerEntry.objects.create(
            account=account,
            kind=original.kind,
            amount_cents=-original.amount_cents,
            effective_on=original.effective_on,
            occurred_at=at,
            instalment=original.instalment,
            reverses=original,
            source=EntrySource.STAFF,
            recorded_by=by,
            recorded_at=at,
            note=reason,
        )
        if original.kind in (EntryKind.PAYMENT, EntryKind.WAIVER):
            account.credited_cents -= original.amount_cents
        else:
            account.charged_cents -= original.amount_cents
        if account.balance_cents > 0:
            account.status, account.settled_on = AccountStatus.ACTIVE, None
        account.save(update_fields=["credited_cents", "charged_cents", "status", "settled_on"])
        record(
            "payment.reversed" if original.kind == EntryKind.PAYMENT else "entry.reversed",
            actor=by,
            obj=account,
            at=at,
            data={
                "entry": original.pk,
                "reversal": reversal.pk,
                "kind": original.kind,
                "amount_cents": original.amount_cents,
                "reason": reason,
                "before": before,
                "after": {
                    "credited_cents": account.credited_cents,
                    "charged_cents": account.charged_cents,
                    "status": account.status,
                },
            },
        )
    return reversal


def refresh_projection(account_ids: list[str] | None = None) -> int:
    """Recompute the cached figures of accounts from their schedule and entries, set-based.

    `None` means every account. Returns the number of accounts whose figures changed.
    """
    params: list = []
    scope_sql = None
    if account_ids is not None:
        marks = ", ".join(["%s"] * len(account_ids))
        scope_sql = f"SELECT id FROM ledger_account WHERE id IN ({marks})"
        params = list(account_ids)
    sql, _ = projection_sql(scope_sql)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def derived_figures_sql() -> str:
    """Per account, the figures re-derived from the schedule and the entries alone."""
    return """
WITH sched AS (
    SELECT account_id, CAST(SUM(principal_cents + interest_cents + fee_cents) AS BIGINT) AS scheduled
    FROM ledger_instalment GROUP BY account_id
),
money AS (
    SELECT account_id,
           CAST(SUM(CASE WHEN kind IN ('payment', 'waiver') THEN amount_cents ELSE 0 END)
                AS BIGINT) AS credited,
           CAST(SUM(CASE WHEN kind IN ('late_fee', 'penalty_interest') THEN amount_cents ELSE 0 END)
                AS BIGINT) AS charged
    FROM ledger_ledgerentry GROUP BY account_id
),
totals AS (
    SELECT a.id AS account_id,
           COALESCE(s.scheduled, 0) AS scheduled,
           COALESCE(m.charged, 0) AS charged,
           COALESCE(m.credited, 0) AS credited
    FROM ledger_account a
    LEFT JOIN sched s ON s.account_id = a.id
    LEFT JOIN money m ON m.account_id = a.id
),
running AS (
    SELECT e.account_id, e.effective_on, t.scheduled,
           SUM(CASE WHEN e.kind IN ('payment', 'waiver') THEN e.amount_cents
                    ELSE -e.amount_cents END)
               OVER (PARTITION BY e.account_id ORDER BY e.effective_on
                     RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS net_paid
    FROM ledger_ledgerentry e
    JOIN totals t ON t.account_id = e.account_id
    WHERE t.scheduled > 0 AND t.credited >= t.scheduled + t.charged
),
settled AS (
    SELECT account_id, MIN(effective_on) AS settled_on
    FROM running WHERE net_paid >= scheduled
    GROUP BY account_id
)
SELECT t.account_id, t.scheduled, t.charged, t.credited,
       CASE WHEN st.settled_on IS NULL THEN 'active' ELSE 'settled' END AS status,
       st.settled_on
FROM totals t LEFT JOIN settled st ON st.account_id = t.account_id
"""


def projection_sql(scope_sql: str | None = None) -> tuple[str, list]:
    """UPDATE that brings the cached account figures in line; `scope_sql` selects account ids."""
    scope = f"AND ledger_account.id IN ({scope_sql})" if scope_sql else ""
    # The statement must start with UPDATE, not WITH: Python 3.11's sqlite3 reports rowcount -1
    # for a statement it does not recognise as DML by its first keyword.
    sql = f"""
UPDATE ledger_account
SET scheduled_cents = derived.scheduled, charged_cents = derived.charged,
    credited_cents = derived.credited, status = derived.status, settled_on = derived.settled_on
FROM ({derived_figures_sql()}) AS derived
WHERE derived.account_id = ledger_account.id {scope}
  AND (ledger_account.scheduled_cents <> derived.scheduled
       OR ledger_account.charged_cents <> derived.charged
       OR ledger_account.credited_cents <> derived.credited
       OR ledger_account.status <> derived.status
       OR ledger_account.settled_on IS DISTINCT FROM derived.settled_on)
"""
    return sql, []


@dataclass(frozen=True)
class LedgerDifference:
    account_id: str
    field: str
    stored: object
    derived: object


def check_ledger(limit: int = 1000) -> tuple[int, list[LedgerDifference]]:
    """Re-derive every account's figures from the entries; return (accounts checked, differences)."""
    fields = ("scheduled_cents", "charged_cents", "credited_cents", "status", "settled_on")
    sql = f"""
WITH derived AS ({derived_figures_sql()})
SELECT a.id, a.scheduled_cents, a.charged_cents, a.credited_cents, a.status, a.settled_on,
       d.scheduled, d.charged, d.credited, d.status, d.settled_on
FROM ledger_account a JOIN derived d ON d.account_id = a.id
WHERE a.scheduled_cents <> d.scheduled OR a.charged_cents <> d.charged
   OR a.credited_cents <> d.credited OR a.status <> d.status
   OR COALESCE(a.settled_on, '1900-01-01') <> COALESCE(d.settled_on, '1900-01-01')
ORDER BY a.id
"""
    differences: list[LedgerDifference] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM ledger_account")
        checked = cursor.fetchone()[0]
        cursor.execute(sql)
        for row in cursor.fetchmany(limit):
            stored, derived = row[1:6], row[6:11]
            for name, old, new in zip(fields, stored, derived, strict=True):
                if str(old) != str(new):
                    differences.append(LedgerDifference(row[0], name, old, new))
        cursor.execute(_cumulative_check_sql())
        for account_id, seq, stored, derived in cursor.fetchmany(limit):
            differences.append(
                LedgerDifference(account_id, f"instalment {seq} cumulative_cents", stored, derived)
            )
    return checked, differences


def _cumulative_check_sql() -> str:
    return """
SELECT account_id, seq, cumulative_cents, running FROM (
    SELECT account_id, seq, cumulative_cents,
           SUM(principal_cents + interest_cents + fee_cents)
               OVER (PARTITION BY account_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS running
    FROM ledger_instalment
) x WHERE cumulative_cents <> running ORDER BY account_id, seq
"""


def charge_policy(product: str) -> dict:
    return settings.DOORSTEP_CHARGES[product]


@dataclass(frozen=True)
class ChargesPosted:
    late_fees: int
    penalty_entries: int
    penalty_cents: int


def assess_charges(as_of: date, *, by: str = "system", at: datetime | None = None) -> ChargesPosted:
    """Post the day's late fees and penalty interest for every account, set-based.

    No charge accrues on an account while a repayment arrangement is being kept (an open
    `arrangement` hold): the arrangement's figures are what the borrower agreed to pay.
    Late fee (滞纳金): once per instalment, when it is unpaid more than the product's grace days
    after its due date. Penalty interest (罚息): for the day `as_of`, the product's daily rate on
    each overdue instalment's unpaid principal (principal is paid last within an instalment, so it
    is min(principal, unpaid part)). Idempotent: unique constraints allow one late fee per
    instalment and one accrual per instalment and day, so a re-run posts nothing new.
    Side effects: charge entries; the projection of every account charged; one audit entry
    (charges.assessed) with the counts.
    """
    at = at or timezone.now()
    policies = settings.DOORSTEP_CHARGES
    # Typed so that PostgreSQL divides integers as integers (an untyped parameter is numeric).
    fee_case = " ".join(f"WHEN %(p_{p})s THEN CAST(%(fee_{p})s AS BIGINT)" for p in policies)
    grace_case = " ".join(f"WHEN %(p_{p})s THEN CAST(%(grace_{p})s AS INTEGER)" for p in policies)
    bps_case = " ".join(f"WHEN %(p_{p})s THEN CAST(%(bps_{p})s AS BIGINT)" for p in policies)
    params: dict = {"as_of": as_of, "by": by, "at": at}
    for product, policy in policies.items():
        params[f"p_{product}"] = product
        params[f"fee_{product}"] = policy["late_fee_cents"]
        params[f"grace_{product}"] = policy["late_fee_grace_days"]
        params[f"bps_{product}"] = policy["penalty_bps_per_day"]
    days = days_before_as_of_sql("u.due_date")
    unpaid = """
WITH credits AS (
    SELECT account_id, SUM(amount_cents) AS credited FROM ledger_ledgerentry
    WHERE kind IN ('payment', 'waiver') AND effective_on <= %(as_of)s GROUP BY account_id
),
charges AS (
    SELECT e.account_id, i.seq, SUM(e.amount_cents) AS charged
    FROM ledger_ledgerentry e JOIN ledger_instalment i ON i.id = e.instalment_id
    WHERE e.kind IN ('late_fee', 'penalty_interest') AND e.effective_on <= %(as_of)s
    GROUP BY e.account_id, i.seq
),
late AS (
    SELECT i.id, i.account_id, i.seq, i.due_date, i.principal_cents,
           i.principal_cents + i.interest_cents + i.fee_cents AS scheduled,
           i.cumulative_cents + COALESCE(SUM(ch.charged), 0) AS cumulative_owed,
           COALESCE(MAX(ch_own.charged), 0) AS own_charges,
           COALESCE(MAX(c.credited), 0) AS credited, a.product
    FROM ledger_instalment i
    JOIN ledger_account a ON a.id = i.account_id AND a.status = 'active'
    LEFT JOIN credits c ON c.account_id = i.account_id
    LEFT JOIN charges ch ON ch.account_id = i.account_id AND ch.seq <= i.seq
    LEFT JOIN charges ch_own ON ch_own.account_id = i.account_id AND ch_own.seq = i.seq
    WHERE i.due_date < %(as_of)s
    GROUP BY i.id, i.account_id, i.seq, i.due_date, i.principal_cents, i.interest_cents,
             i.fee_cents, i.cumulative_cents, a.product
),
unpaid AS (
    SELECT id, account_id, due_date, product, principal_cents,
           CASE WHEN cumulative_owed - credited < scheduled + own_charges
                THEN cumulative_owed - credited ELSE scheduled + own_charges END AS unpaid
    FROM late WHERE cumulative_owed > credited
)"""
    columns = (
        "account_id, kind, amount_cents, effective_on, occurred_at, instalment_id, source, "
        "recorded_by, recorded_at, note"
    )
    late_fees = f"""
INSERT INTO ledger_ledgerentry ({columns})
SELECT u.account_id, 'late_fee', CASE u.product {fee_case} END, %(as_of)s, %(at)s, u.id,
       'system', %(by)s, %(at)s, ''
FROM ({unpaid} SELECT * FROM unpaid) u
WHERE {days} > CASE u.product {grace_case} END
  AND CASE u.product {fee_case} END > 0
  AND NOT EXISTS (SELECT 1 FROM ledger_ledgerentry e
                  WHERE e.instalment_id = u.id AND e.kind = 'late_fee' AND e.reverses_id IS NULL)
  AND NOT EXISTS (SELECT 1 FROM ledger_hold h
                  WHERE h.account_id = u.account_id AND h.kind = 'arrangement'
                    AND h.since <= %(as_of)s AND (h.until IS NULL OR h.until >= %(as_of)s))
"""
    # PostgreSQL's SUM(bigint) is numeric: cast back so the division below is an integer one.
    principal_unpaid = (
        "CAST(CASE WHEN u.unpaid < u.principal_cents THEN u.unpaid ELSE u.principal_cents END "
        "AS BIGINT)"
    )
    penalty = f"({principal_unpaid} * CASE u.product {bps_case} END + 5000) / 10000"
    penalties = f"""
INSERT INTO ledger_ledgerentry ({columns})
SELECT u.account_id, 'penalty_interest', {penalty}, %(as_of)s, %(at)s, u.id,
       'system', %(by)s, %(at)s, ''
FROM ({unpaid} SELECT * FROM unpaid) u
WHERE {penalty} > 0
  AND NOT EXISTS (SELECT 1 FROM ledger_ledgerentry e
                  WHERE e.instalment_id = u.id AND e.kind = 'penalty_interest'
                    AND e.effective_on = %(as_of)s AND e.reverses_id IS NULL)
  AND NOT EXISTS (SELECT 1 FROM ledger_hold h
                  WHERE h.account_id = u.account_id AND h.kind = 'arrangement'
                    AND h.since <= %(as_of)s AND (h.until IS NULL OR h.until >= %(as_of)s))
"""
    with transaction.atomic(), connection.cursor() as cursor:
        # Penalty first, on the day's unpaid principal before today's late fee is added.
        cursor.execute(penalties, params)
        penalty_entries = cursor.rowcount
        cursor.execute(late_fees, params)
        late_fee_count = cursor.rowcount
        cursor.execute(
            "SELECT COALESCE(SUM(amount_cents), 0) FROM ledger_ledgerentry "
            "WHERE kind = 'penalty_interest' AND effective_on = %(as_of)s AND recorded_at = %(at)s",
            params,
        )
        penalty_cents = cursor.fetchone()[0]
        sql, _ = projection_sql(
            "SELECT account_id FROM ledger_ledgerentry "
            "WHERE kind IN ('late_fee', 'penalty_interest') AND effective_on = %(as_of)s"
        )
        cursor.execute(sql, params)
        # One entry per run, not per charge: the entries themselves carry the detail.
        record(
            "charges.assessed",
            actor=by,
            at=at,
            data={
                "as_of": as_of,
                "late_fees": late_fee_count,
                "penalty_entries": penalty_entries,
                "penalty_cents": int(penalty_cents),
            },
        )
    return ChargesPosted(late_fee_count, penalty_entries, int(penalty_cents))


def place_hold(
    account_id: str, *, kind: str, since: date, until: date | None = None, by: str
) -> Hold:
    """Open a hold on an account (a dispute, complaint, cease-visit request…). Side effects: the
    Hold row; an audit entry (hold.placed). Re-evaluating the account is the caller's next step (strategy.domain does both).
    Raises HoldRejected."""
    if kind not in HoldKind.values:
        raise HoldRejected(
            gettext_noop("unknown hold kind %(kind)s"), code="hold.kind", field="kind",
            params={"kind": repr(kind)},
        )  # fmt: skip
    if until is not None and until < since:
        raise HoldRejected(gettext_noop("until is before since"), code="hold.dates", field="until")
    with transaction.atomic():
        account = locked_account(account_id)
        if account is None:
            raise HoldRejected(
                gettext_noop("no account %(account)s"), code="hold.no_account",
                params={"account": account_id},
            )  # fmt: skip
        if Hold.objects.filter(account=account, kind=kind, since=since).exists():
            raise HoldRejected(gettext_noop("this hold is already recorded"), code="hold.duplicate")
        hold = Hold.objects.create(account=account, kind=kind, since=since, until=until)
        record(
            "hold.placed",
            actor=by,
            obj=account,
            data={"hold": hold.pk, "kind": kind, "since": since, "until": until},
        )
        return hold


def release_hold(hold: Hold, *, until: date, by: str, reason: str) -> Hold:
    """Close an open hold: it stays open through `until` and not after. Side effects: the hold's
    `until`; an audit entry (hold.released). Releasing a closed hold is refused (HoldRejected)."""
    with transaction.atomic():
        # The account first (docs/adr/0010): a payment holds it and the audit head, then may
        # release the account's holds (an arrangement completed).
        locked_account(hold.account_id)
        hold = Hold.objects.select_for_update().get(pk=hold.pk)
        if hold.until is not None and hold.until <= until:
            raise HoldRejected(gettext_noop("this hold is already closed"), code="hold.closed")
        # The constraint wants until >= since: a hold released on its first day held that day.
        until = max(until, hold.since)
        hold.until = until
        hold.save(update_fields=["until"])
        record(
            "hold.released",
            actor=by,
            obj=hold.account,
            data={"hold": hold.pk, "kind": hold.kind, "until": until, "reason": reason},
        )
        return hold


def waivable_cents(account: Account) -> int:
    """Late fees and penalty interest charged and not yet waived: what a hardship waiver may
    cover. A waiver never touches principal, interest or fees of the contract."""
    totals = dict(
        LedgerEntry.objects.filter(account=account, kind__in=[*CHARGE_KINDS, EntryKind.WAIVER])
        .values_list("kind")
        .annotate(total=Sum("amount_cents"))
    )
    charged = sum(totals.get(kind, 0) for kind in CHARGE_KINDS)
    return max(charged - totals.get(EntryKind.WAIVER, 0), 0)


def post_waiver(
    account_id: str, *, amount_cents: int, by: str, reference: str, note: str, at: datetime
) -> LedgerEntry:
    """Waive late fees and penalty interest (documented hardship, DOMAIN §6). Side effects: a
    waiver entry (a credit, allocated like money received); the account settled when nothing is
    left; an audit entry (waiver.posted). Raises WaiverRejected."""
    with transaction.atomic():
        account = locked_account(account_id)
        if account is None or account.status == AccountStatus.SETTLED:
            raise WaiverRejected(
                gettext_noop("account %(account)s is not open"), code="waiver.account",
                params={"account": account_id},
            )  # fmt: skip
        if amount_cents <= 0:
            raise WaiverRejected(
                gettext_noop("a waiver must be positive"), code="waiver.not_positive",
                field="amount",
            )  # fmt: skip
        left = waivable_cents(account)
        if amount_cents > left:
            raise WaiverRejected(
                gettext_noop("only %(left)s of charges is left to waive"),
                code="waiver.too_much", field="amount", params={"left": yuan(left)},
            )  # fmt: skip
        entry = LedgerEntry.objects.create(
            account=account,
            kind=EntryKind.WAIVER,
            amount_cents=amount_cents,
            effective_on=local_date(account, at),
            occurred_at=at,
            reference=reference,
            source=EntrySource.STAFF,
            recorded_by=by,
            recorded_at=at,
            note=note,
        )
        account.credited_cents += amount_cents
        update = ["credited_cents"]
        if account.balance_cents <= 0:
            account.status = AccountStatus.SETTLED
            account.settled_on = entry.effective_on
            update += ["status", "settled_on"]
        account.save(update_fields=update)
        record(
            "waiver.posted",
            actor=by,
            obj=account,
            at=at,
            data={"entry": entry.pk, "amount_cents": amount_cents, "reference": reference},
        )
        return entry
