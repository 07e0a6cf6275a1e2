"""Reads of the ledger used by more than one caller.

`portfolio_positions` is the set-based path: DPD, bucket, overdue and outstanding for every account
as of a date in one SQL statement, no per-account Python. `account_position` is the real-time path
for one account, through the pure engine. Both follow DOMAIN §2 and must agree (a property test
checks it).

How the SQL stays one pass: payments pay instalments oldest first, so the paid instalments are always
a prefix of the schedule. `Instalment.cumulative_cents` holds the running scheduled total, which
turns "is instalment i fully paid?" into a comparison with the account's total credit. Only the
accounts with something overdue need a second look at their instalments to find the oldest unpaid.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection

from doorstep.ledger.engine.positions import (
    CHARGE_KINDS,
    CREDIT_KINDS,
    Entry,
    Position,
    ScheduledInstalment,
    position,
)
from doorstep.ledger.models import Account, Instalment, LedgerEntry


def locked_account(account_id: str) -> Account | None:
    """The account, its row locked until the caller's transaction ends (None: no such account;
    the caller refuses in its own terms). The one way an account write locks its account: first,
    before the object's own row and the audit trail's head (docs/adr/0010).

    The borrower and region come joined (most writes read the local date), and only the
    account's row is locked (`of=("self",)`): a plain FOR UPDATE over the join locked the
    borrower's and the region's rows too, so every write in a region queued on the region's row
    and deadlocked with the audit trail's head under load. The lock is PostgreSQL's FOR NO KEY
    UPDATE (`no_key`): exclusive between account writes, yet it lets a transaction that inserts
    rows naming the account (a contact, a planned action) check that foreign key, which takes FOR
    KEY SHARE, without queueing behind the writer while holding the audit head.
    """
    return (
        Account.objects.select_for_update(of=("self",), no_key=True)
        .select_related("borrower__region")
        .filter(pk=account_id)
        .first()
    )


# How many ids one statement is given: a night at ten million accounts works on hundreds of
# thousands at once, more than SQLite (250,000) or psycopg (65,535) take as parameters.
LOCK_SLICE = 5_000


def in_slices(ids: Sequence) -> Iterator[Sequence]:
    """`ids` a slice of LOCK_SLICE at a time, in their order, for `pk__in` lookups."""
    for start in range(0, len(ids), LOCK_SLICE):
        yield ids[start : start + LOCK_SLICE]


def lock_accounts(account_ids) -> None:
    """Lock many accounts' rows (only theirs) in one statement, in id order, for a batch that
    writes to each of them and to the audit trail (docs/adr/0010): locked in one order, two
    batches never cross, and the batch takes the audit head only after every account it needs.
    """
    ids = sorted(set(account_ids))
    # Ascending slices keep the one order.
    for ids_slice in in_slices(ids):
        list(
            Account.objects.select_for_update(of=("self",), no_key=True)
            .filter(pk__in=ids_slice)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


@dataclass(frozen=True)
class Books:
    """One account's schedule and its entries effective on or before `as_of`: what its figures
    (`account_position`) and its strategy features (strategy.queries) are computed from, read
    once by a page that shows both (the case view, the portal's status page)."""

    as_of: date
    instalments: tuple[Instalment, ...]  # in schedule order
    entries: tuple[tuple, ...]  # (kind, amount_cents, effective_on, instalment seq)


def read_books(account: Account, as_of: date) -> Books:
    return Books(
        as_of,
        tuple(account.instalments.order_by("seq")),
        tuple(
            LedgerEntry.objects.filter(account=account, effective_on__lte=as_of).values_list(
                "kind", "amount_cents", "effective_on", "instalment__seq"
            )
        ),
    )


def account_position(account: Account, as_of: date, *, books: Books | None = None) -> Position:
    """`books`: the account's books as of the same day, when the caller has read them."""
    if books is None or books.as_of != as_of:
        books = read_books(account, as_of)
    schedule = [
        ScheduledInstalment(i.seq, i.due_date, i.principal_cents, i.interest_cents, i.fee_cents)
        for i in books.instalments
    ]
    entries = [Entry(*row) for row in books.entries]
    return position(schedule, entries, as_of, order=settings.DOORSTEP_ALLOCATION_ORDER)


@dataclass(frozen=True)
class PortfolioPosition:
    account_id: str
    dpd: int
    bucket: str
    overdue: int
    outstanding: int
    credited: int
    charged: int
    scheduled: int


_BUCKET_SQL = """CASE
      WHEN dpd = 0 THEN 'M0' WHEN dpd <= 30 THEN 'M1' WHEN dpd <= 60 THEN 'M2'
      WHEN dpd <= 90 THEN 'M3' WHEN dpd <= 120 THEN 'M4' WHEN dpd <= 150 THEN 'M5'
      WHEN dpd <= 180 THEN 'M6' ELSE 'M6+' END"""


def _in_list(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def days_before_as_of_sql(column: str, vendor: str | None = None) -> str:
    """SQL for the whole days from the date `column` to the `%(as_of)s` parameter."""
    if (vendor or connection.vendor) == "postgresql":
        return f"(%(as_of)s::date - {column})"
    return f"CAST(julianday(%(as_of)s) - julianday({column}) AS INTEGER)"


def portfolio_positions_sql(vendor: str | None = None) -> str:
    """The set-based statement; one parameter, the as-of date, named `%(as_of)s`.

    Per account it makes a few index seeks instead of scanning the whole schedule table: the
    schedule total and the running total due by the date are the `cumulative_cents` of the last
    instalment (due dates rise with seq), the credit is one range of the entry index, and the
    oldest unpaid instalment of a late account is the first whose running total exceeds it.
    Charges (rare: only late accounts have them) take the general path: per-instalment sums
    folded into the running totals.
    """
    vendor = vendor or connection.vendor
    days = days_before_as_of_sql("{0}", vendor)
    plain_oldest = """(SELECT i.due_date FROM ledger_instalment i
              WHERE i.account_id = t.account_id AND i.due_date < %(as_of)s
                AND i.cumulative_cents > t.credited
              ORDER BY i.due_date LIMIT 1)"""
    if vendor == "postgresql":
        # PostgreSQL hashes whole tables fast; a probe per account costs it more, above all
        # right after a bulk load, before VACUUM has set the visibility map.
        base = f"""
    SELECT a.id AS account_id,
           COALESCE(s.scheduled, 0) AS scheduled,
           COALESCE(s.scheduled_due, 0) AS scheduled_due,
           COALESCE(c.credited, 0) AS credited
    FROM ledger_account a
    LEFT JOIN (SELECT account_id, MAX(cumulative_cents) AS scheduled,
                      MAX(CASE WHEN due_date < %(as_of)s THEN cumulative_cents END) AS scheduled_due
               FROM ledger_instalment GROUP BY account_id) s ON s.account_id = a.id
    LEFT JOIN (SELECT account_id, CAST(SUM(amount_cents) AS BIGINT) AS credited
               FROM ledger_ledgerentry
               WHERE kind IN ({_in_list(CREDIT_KINDS)}) AND effective_on <= %(as_of)s
               GROUP BY account_id) c ON c.account_id = a.id"""
    else:
        # SQLite: a few index seeks per account beat scanning the whole schedule table.
        base = f"""
    SELECT a.id AS account_id,
           COALESCE((SELECT i.cumulative_cents FROM ledger_instalment i
                     WHERE i.account_id = a.id ORDER BY i.due_date DESC LIMIT 1), 0) AS scheduled,
           COALESCE((SELECT i.cumulative_cents FROM ledger_instalment i
                     WHERE i.account_id = a.id AND i.due_date < %(as_of)s
                     ORDER BY i.due_date DESC LIMIT 1), 0) AS scheduled_due,
           COALESCE((SELECT SUM(e.amount_cents) FROM ledger_ledgerentry e
                     WHERE e.account_id = a.id AND e.effective_on <= %(as_of)s
                       AND e.kind IN ({_in_list(CREDIT_KINDS)})), 0) AS credited
    FROM ledger_account a"""
    return f"""
WITH charges AS (
    SELECT e.account_id, i.seq, i.due_date, SUM(e.amount_cents) AS charged
    FROM ledger_ledgerentry e JOIN ledger_instalment i ON i.id = e.instalment_id
    WHERE e.instalment_id IS NOT NULL AND e.kind IN ({_in_list(CHARGE_KINDS)})
      AND e.effective_on <= %(as_of)s
    GROUP BY e.account_id, i.seq, i.due_date
),
charge_totals AS (
    SELECT account_id,
           SUM(charged) AS charged,
           SUM(CASE WHEN due_date < %(as_of)s THEN charged ELSE 0 END) AS charged_due
    FROM charges GROUP BY account_id
),
base AS ({base}
),
totals AS (
    SELECT b.account_id, b.scheduled, b.credited,
           COALESCE(ct.charged, 0) AS charged,
           b.scheduled_due + COALESCE(ct.charged_due, 0) AS due,
           CASE WHEN ct.account_id IS NULL THEN 0 ELSE 1 END AS has_charges
    FROM base b LEFT JOIN charge_totals ct ON ct.account_id = b.account_id
),
charged_late AS (
    SELECT i.account_id, i.due_date, t.credited,
           i.cumulative_cents + COALESCE(SUM(ch.charged), 0) AS cumulative_owed
    FROM totals t
    JOIN ledger_instalment i ON i.account_id = t.account_id AND i.due_date < %(as_of)s
    LEFT JOIN charges ch ON ch.account_id = i.account_id AND ch.seq <= i.seq
    WHERE t.has_charges = 1 AND t.due > t.credited
    GROUP BY i.account_id, i.seq, i.due_date, i.cumulative_cents, t.credited
),
charged_oldest AS (
    SELECT account_id, MIN(due_date) AS oldest_due
    FROM charged_late WHERE cumulative_owed > credited
    GROUP BY account_id
),
figures AS MATERIALIZED (
    SELECT t.account_id,
           CASE WHEN t.due <= t.credited THEN 0
                WHEN t.has_charges = 1 THEN {days.format("co.oldest_due")}
                ELSE {days.format(plain_oldest)} END AS dpd,
           CASE WHEN t.due > t.credited THEN t.due - t.credited ELSE 0 END AS overdue,
           CASE WHEN t.scheduled + t.charged > t.credited
                THEN t.scheduled + t.charged - t.credited ELSE 0 END AS outstanding,
           t.credited, t.charged, t.scheduled
    FROM totals t LEFT JOIN charged_oldest co ON co.account_id = t.account_id
)
SELECT account_id, dpd, {_BUCKET_SQL} AS bucket, overdue, outstanding, credited, charged,
       scheduled
FROM figures
"""


def portfolio_positions(as_of: date) -> Iterator[PortfolioPosition]:
    """Every account's figures as of `as_of`, streamed from one SQL statement."""
    with connection.cursor() as cursor:
        cursor.execute(portfolio_positions_sql(), {"as_of": as_of})
        while rows := cursor.fetchmany(10_000):
            for row in rows:
                yield PortfolioPosition(*row)


@dataclass(frozen=True)
class BucketLine:
    bucket: str
    accounts: int
    overdue: int
    outstanding: int


def portfolio_by_bucket(as_of: date) -> list[BucketLine]:
    """Accounts and balances per bucket as of a date (settled accounts leave the table)."""
    sql = f"""
SELECT bucket, COUNT(*), SUM(overdue), SUM(outstanding)
FROM ({portfolio_positions_sql()}) p
WHERE outstanding > 0
GROUP BY bucket ORDER BY bucket
"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"as_of": as_of})
        return [BucketLine(*row) for row in cursor.fetchall()]
