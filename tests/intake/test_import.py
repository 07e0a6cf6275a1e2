"""doorstep import: all or nothing, idempotent, every problem named by file, line and field."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from doorstep.contact.models import Contact
from doorstep.intake.importer import ImportRejected, import_portfolio
from doorstep.ledger.domain import check_ledger
from doorstep.ledger.models import Account, Borrower, Hold, Instalment, LedgerEntry
from tests.audit.dba import triggers_lifted

pytestmark = pytest.mark.django_db

TABLES = [
    "ledger_region", "ledger_borrower", "ledger_account", "ledger_instalment",
    "ledger_ledgerentry", "ledger_hold", "contact_contact",
]  # fmt: skip


SURROGATE_KEYS = {"ledger_instalment", "ledger_ledgerentry", "ledger_hold"}


def snapshot(*, ciphertext: bool = True) -> dict:
    """Every row of every table the import writes, so 'unchanged' means unchanged. Without
    `ciphertext`, encrypted columns are left out (each encryption takes a fresh nonce)."""
    state = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
            rows = cursor.fetchall()
            names = [c[0] for c in cursor.description]
            keep = [
                i
                for i, name in enumerate(names)
                # compare content, not the order surrogate ids were handed out
                if not (name == "id" and table in SURROGATE_KEYS)
                and (ciphertext or not name.endswith("_encrypted"))
            ]
            rows = [[row[i] for i in keep] for row in rows]
            state[table] = sorted(tuple(str(v) for v in row) for row in rows)
    return state


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def rejected(directory, **kwargs) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        import_portfolio(directory, **kwargs)
    return [str(p) for p in caught.value.problems.items]


def test_example_portfolio_imports_with_its_figures(portfolio_dir):
    result = import_portfolio(portfolio_dir)

    assert result.rows_read == {
        "regions": 3, "borrowers": 4, "accounts": 4, "instalments": 25, "payments": 9,
        "contacts": 5, "holds": 1,
    }  # fmt: skip
    assert result.rows_written == result.rows_read
    a1 = Account.objects.get(pk="A0001")
    assert (a1.scheduled_cents, a1.credited_cents, a1.status) == (12 * 106_000, 368_000, "active")
    a2 = Account.objects.get(pk="A0002")
    assert (a2.status, a2.settled_on) == ("settled", date(2026, 8, 20))
    assert Instalment.objects.get(account_id="A0001", seq=12).cumulative_cents == 12 * 106_000
    assert Hold.objects.get(account_id="A0004").until is None
    assert Contact.objects.get(pk="C0002").ptp_amount_cents == 50_000
    assert check_ledger() == (4, [])


def test_payment_counts_on_the_local_day_of_its_region(portfolio_dir):
    import_portfolio(portfolio_dir)
    # 23:30 in Urumqi (UTC+6) on 1 January is already 2 January in Beijing time.
    assert LedgerEntry.objects.get(reference="P0008").effective_on == date(2026, 1, 1)
    # 20:15 in Shenzhen stays on its own day.
    assert LedgerEntry.objects.get(reference="P0001").effective_on == date(2026, 2, 9)


def test_reimporting_the_same_files_changes_nothing(portfolio_dir):
    import_portfolio(portfolio_dir)
    before = snapshot()

    result = import_portfolio(portfolio_dir)

    assert snapshot() == before
    assert set(result.rows_written.values()) == {0}


def test_reimport_adds_only_new_payments(portfolio_dir):
    import_portfolio(portfolio_dir)
    with (portfolio_dir / "payments.csv").open("a", encoding="utf-8") as handle:
        handle.write("P0010,A0004,2026-05-15T09:00:00+08:00,612.00\n")

    result = import_portfolio(portfolio_dir)

    assert result.rows_written["payments"] == 1
    assert LedgerEntry.objects.filter(kind="payment").count() == 10
    assert Account.objects.get(pk="A0004").credited_cents == 122_400
    assert check_ledger() == (4, [])


def test_reimport_updates_what_may_change(portfolio_dir):
    import_portfolio(portfolio_dir)
    rewrite(portfolio_dir / "borrowers.csv", "科技园南路88号", "科技园北路1号")
    rewrite(
        portfolio_dir / "holds.csv",
        "A0004,complaint,2026-07-01,",
        "A0004,complaint,2026-07-01,2026-08-01",
    )

    result = import_portfolio(portfolio_dir)

    assert result.rows_written["borrowers"] == 1
    assert Borrower.objects.get(pk="B0001").address.endswith("科技园北路1号")
    assert Hold.objects.get(account_id="A0004").until == date(2026, 8, 1)


def test_csv_and_parquet_give_the_same_ledger(portfolio_dir, tmp_path, django_db_blocker):
    parquet_dir = tmp_path / "parquet"
    parquet_dir.mkdir()
    for csv_path in portfolio_dir.glob("*.csv"):
        table = pacsv.read_csv(
            csv_path,
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(
                    csv_path.read_text().splitlines()[0].split(","), "string"
                )
            ),
        )
        pq.write_table(table, parquet_dir / f"{csv_path.stem}.parquet")
    import_portfolio(portfolio_dir)
    from_csv = snapshot()
    from_csv.pop("ledger_borrower")  # ciphertexts differ per encryption, compared below
    from_csv.pop("ledger_ledgerentry")

    with triggers_lifted():  # the retention triggers keep recent contacts from deletion
        for table in reversed(TABLES):
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    import_portfolio(parquet_dir)
    from_parquet = snapshot()
    from_parquet.pop("ledger_borrower")
    from_parquet.pop("ledger_ledgerentry")

    assert from_parquet == from_csv
    national_id = (portfolio_dir / "borrowers.csv").read_text().splitlines()[3].split(",")[2]
    assert Borrower.objects.get(pk="B0003").national_id() == national_id
    assert list(LedgerEntry.objects.order_by("reference").values_list("reference", "amount_cents", "effective_on")) == [
        ("P0001", 106_000, date(2026, 2, 9)), ("P0002", 106_000, date(2026, 3, 10)),
        ("P0003", 106_000, date(2026, 4, 25)), ("P0004", 50_000, date(2026, 6, 1)),
        ("P0005", 103_000, date(2026, 6, 20)), ("P0006", 103_000, date(2026, 7, 20)),
        ("P0007", 103_000, date(2026, 8, 20)), ("P0008", 105_500, date(2026, 1, 1)),
        ("P0009", 61_200, date(2026, 4, 15)),
    ]  # fmt: skip


def test_small_batches_give_the_same_result_as_one(portfolio_dir):
    import_portfolio(portfolio_dir, block_bytes=256)
    small = snapshot()
    small.pop("ledger_borrower")
    small.pop("ledger_ledgerentry")
    assert check_ledger() == (4, [])
    assert [
        i.cumulative_cents for i in Instalment.objects.filter(account_id="A0003").order_by("seq")
    ] == [105_500 * n for n in range(1, 7)]


def test_unsorted_instalments_still_get_running_totals(portfolio_dir):
    path = portfolio_dir / "instalments.csv"
    header, *lines = path.read_text().splitlines()
    path.write_text("\n".join([header, *reversed(lines)]) + "\n")

    import_portfolio(portfolio_dir)

    assert [
        i.cumulative_cents for i in Instalment.objects.filter(account_id="A0001").order_by("seq")
    ] == [106_000 * n for n in range(1, 13)]
    assert check_ledger() == (4, [])


# --- bad input: each names file, line and field, and writes nothing ----------------------------


@dataclass
class Database:
    empty: bool
    before: dict

    def unchanged(self) -> bool:
        return snapshot() == self.before

    def check(self, problems: list[str], expected: str) -> None:
        """The expected problem is reported; on an empty database it is the only one (after a
        previous import, the changed row may also differ from what is stored)."""
        assert expected in problems
        if self.empty:
            assert problems == [expected]
        assert self.unchanged()


@pytest.fixture(params=["empty", "after a good import"])
def database(request, portfolio_dir, tmp_path) -> Database:
    """Run each bad-input case on an empty database and on one holding a previous import."""
    if request.param == "after a good import":
        import_portfolio(portfolio_dir)
    return Database(empty=request.param == "empty", before=snapshot())


def test_missing_column(portfolio_dir, database):
    path = portfolio_dir / "accounts.csv"
    rows = [line.split(",") for line in path.read_text().splitlines()]
    path.write_text("\n".join(",".join(row[:4] + row[5:]) for row in rows) + "\n")

    problems = rejected(portfolio_dir)

    database.check(problems, "accounts.csv, line 1, field principal: column is missing")


def test_bad_date(portfolio_dir, database):
    rewrite(portfolio_dir / "instalments.csv", "A0002,2,2026-07-20", "A0002,2,2026-02-30")

    problems = rejected(portfolio_dir)

    database.check(
        problems,
        "instalments.csv, line 15, field due_date: is not a date in the form YYYY-MM-DD (got '2026-02-30')",
    )


def test_unknown_account(portfolio_dir, database):
    rewrite(portfolio_dir / "payments.csv", "P0009,A0004", "P0009,A9999")

    problems = rejected(portfolio_dir)

    database.check(problems, "payments.csv, line 10, field account_id: unknown account 'A9999'")


def test_negative_amount(portfolio_dir, database):
    rewrite(
        portfolio_dir / "payments.csv",
        "2026-03-10T09:00:00+08:00,1060.00",
        "2026-03-10T09:00:00+08:00,-1060.00",
    )

    problems = rejected(portfolio_dir)

    database.check(
        problems, "payments.csv, line 3, field amount: must not be negative (got '-1060.00')"
    )


def test_duplicate_key_with_different_content(portfolio_dir, database):
    with (portfolio_dir / "payments.csv").open("a", encoding="utf-8") as handle:
        handle.write("P0002,A0001,2026-03-10T09:00:00+08:00,1061.00\n")

    problems = rejected(portfolio_dir)

    database.check(
        problems,
        "payments.csv, line 11: reference P0002 appears again with different content (first at line 3)",
    )


def test_duplicate_key_across_batches(portfolio_dir):
    with (portfolio_dir / "payments.csv").open("a", encoding="utf-8") as handle:
        handle.write("P0002,A0001,2026-03-10T09:00:00+08:00,1061.00\n")

    problems = rejected(portfolio_dir, block_bytes=128)

    assert problems == [
        "payments.csv, line 11: payment already exists with different content: amount_cents 106000 → 106100"
    ]
    assert LedgerEntry.objects.count() == 0


def test_same_row_twice_is_not_a_problem(portfolio_dir):
    with (portfolio_dir / "payments.csv").open("a", encoding="utf-8") as handle:
        handle.write("P0002,A0001,2026-03-10T09:00:00+08:00,1060.00\n")

    result = import_portfolio(portfolio_dir)

    assert result.rows_written["payments"] == 9


def test_changed_payment_against_the_database(portfolio_dir):
    import_portfolio(portfolio_dir)
    before = snapshot()
    rewrite(
        portfolio_dir / "payments.csv",
        "P0004,A0001,2026-06-01T18:00:00+08:00,500.00",
        "P0004,A0001,2026-06-01T18:00:00+08:00,550.00",
    )

    problems = rejected(portfolio_dir)

    assert problems == [
        "payments.csv, line 5: payment already exists with different content: amount_cents 50000 → 55000"
    ]
    assert snapshot() == before


def test_non_utf8_file(portfolio_dir, database):
    path = portfolio_dir / "borrowers.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))

    problems = rejected(portfolio_dir)

    database.check(
        problems,
        "borrowers.csv, line 2: not valid UTF-8 (byte 0xd5 at position 7); save the file as UTF-8",
    )


def test_due_dates_must_rise_with_seq(portfolio_dir, database):
    rewrite(portfolio_dir / "instalments.csv", "A0004,3,2026-06-15", "A0004,3,2026-05-01")

    problems = rejected(portfolio_dir)

    database.check(
        problems,
        "instalments.csv, line 25, field due_date: 2026-05-01 is not after the previous "
        "instalment's due date 2026-05-15: due dates must rise with seq",
    )


def test_every_problem_is_reported_not_just_the_first(portfolio_dir, tmp_path):
    rewrite(portfolio_dir / "regions.csv", "Asia/Urumqi", "Asia/Nowhere")
    rewrite(portfolio_dir / "accounts.csv", "A0002,B0002,micro_loan", "A0002,B0002,mortgage")
    rewrite(portfolio_dir / "payments.csv", "2026-06-20T08:00:00+08:00", "2026-06-20 8am")
    rewrite(
        portfolio_dir / "contacts.csv",
        "C0005,A0004,2026-06-20T15:00:00+08:00,call,refused",
        "C0005,A0004,2026-06-20T15:00:00+08:00,call,delivered",
    )
    report = tmp_path / "problems.csv"

    # Rows that lean on a rejected row (the borrower in the bad region, their account and its
    # payments) are left out too, without a problem of their own: one cause, one line.
    with pytest.raises(CommandError, match="4 problems, nothing was written"):
        call_command("import", str(portfolio_dir), "--report", str(report))

    lines = report.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "file,line,field,problem"
    assert lines[1:] == [
        "accounts.csv,3,product,\"must be one of micro_loan, instalment, credit_card (got 'mortgage')\"",
        'contacts.csv,6,outcome,"delivered applies to messages (sms, email, app), not to calls or visits"',
        "payments.csv,6,paid_at,\"is not a time in ISO 8601 with a UTC offset, e.g. 2026-10-03T14:22:05+08:00 (got '2026-06-20 8am')\"",
        "regions.csv,4,time_zone,\"is not an IANA time zone such as Asia/Shanghai (got 'Asia/Nowhere')\"",
    ]
    assert snapshot() == {table: [] for table in TABLES}


def test_missing_required_file(portfolio_dir, database):
    (portfolio_dir / "instalments.csv").unlink()

    problems = rejected(portfolio_dir)

    database.check(problems, "instalments.csv: file is missing (CSV or Parquet expected)")


# --- the bulk path: what a first load defers comes back ----------------------------------------


def schema_objects() -> set[tuple[str, str]]:
    """Every index, and on PostgreSQL every foreign key, of the tables the import writes."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tablename, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [TABLES]
            )
            found = set(cursor.fetchall())
            # Keys and foreign keys, those of these tables and those pointing at them.
            cursor.execute(
                """SELECT conrelid::regclass::text, conname || ' ' || pg_get_constraintdef(oid)
                   FROM pg_constraint WHERE contype IN ('f', 'p', 'u')
                     AND (conrelid::regclass::text = ANY(%s)
                          OR confrelid::regclass::text = ANY(%s))""",
                [TABLES, TABLES],
            )
            return found | set(cursor.fetchall())
        found = set()
        for table in TABLES:
            cursor.execute(f"PRAGMA index_list({table})")
            found |= {(table, row[1]) for row in cursor.fetchall()}
        return found


def test_first_load_puts_back_every_index_and_foreign_key(portfolio_dir):
    before = schema_objects()

    import_portfolio(portfolio_dir)

    assert schema_objects() == before
    assert len([o for o in before if o[0] == "ledger_instalment"]) >= 2


def test_a_first_load_that_needs_the_stage_half_way_puts_the_keys_back_first(portfolio_dir):
    """On PostgreSQL a first load builds the big tables' keys at the end; a later batch that
    repeats an earlier key needs them at once (its upsert's arbiter, the probe for existing
    rows), and the row is then written once, not twice."""
    before = schema_objects()
    with (portfolio_dir / "contacts.csv").open("a", encoding="utf-8") as handle:
        handle.write((portfolio_dir / "contacts.csv").read_text().splitlines()[1] + "\n")

    result = import_portfolio(portfolio_dir, block_bytes=128)

    assert Contact.objects.count() == result.rows_read["contacts"] - 1
    assert schema_objects() == before


def test_a_reference_is_known_from_the_ids_written_only_when_that_is_sure(portfolio_dir):
    """On a first load the accounts a batch names are looked up among the ids this import wrote
    (sorted, as fixed-width bytes); anything that representation could confuse goes to the
    database instead."""
    import pyarrow as pa

    from doorstep.intake import importer

    writer = importer._Writer.__new__(importer._Writer)
    writer.first_loads = {"ledger_account"}
    writer.problems = importer.reading.Problems()
    writer.written_ids, writer.sorted_ids = {}, {}
    writer.wrote("ledger_account", pa.array(["A0001", "A0003"]))
    writer.wrote("ledger_region", pa.array(["110000"]))  # not a first load: not remembered
    assert not writer._known("ledger_region", pa.array(["110000"]))
    writer.wrote("ledger_account", pa.array(["A0002"]))

    def known(*ids):
        return writer._known("ledger_account", pa.array(list(ids), pa.string()))

    assert known("A0003", "A0001")
    assert known()
    assert not known("A0004")
    assert not known("A000")  # a prefix of known ids
    assert not known("A00011")  # longer than any known id: cut to width it would match
    assert not known("A0001\x00")  # a trailing NUL, which fixed-width bytes drop
    assert not known("A0001", "B")
    writer.problems.add("accounts.csv", 3, "principal", "must be more than 0")
    assert not known("A0001")  # with a problem found, a staged account may not have been written


def test_rejected_first_load_leaves_indexes_and_foreign_keys(portfolio_dir):
    before = schema_objects()
    rewrite(portfolio_dir / "payments.csv", "P0009,A0004", "P0009,A9999")

    rejected(portfolio_dir)

    assert schema_objects() == before
    assert Account.objects.count() == 0


def test_same_row_in_a_later_batch_is_not_a_problem(portfolio_dir):
    """Keys seen in an earlier batch need the ON CONFLICT arbiter again (not a plain insert)."""
    with (portfolio_dir / "payments.csv").open("a", encoding="utf-8") as handle:
        handle.write("P0002,A0001,2026-03-10T09:00:00+08:00,1060.00\n")
    with (portfolio_dir / "instalments.csv").open("a", encoding="utf-8") as handle:
        first = (portfolio_dir / "instalments.csv").read_text().splitlines()[1]
        handle.write(first + "\n")

    result = import_portfolio(portfolio_dir, block_bytes=128)

    assert result.rows_written["payments"] == 9
    assert LedgerEntry.objects.filter(reference="P0002").count() == 1
    assert check_ledger() == (4, [])


def test_a_failure_while_reading_ahead_reaches_the_caller(portfolio_dir, monkeypatch):
    from doorstep.intake import reading

    def broken(path, *args, **kwargs):
        if path.name.startswith("payments"):
            raise OSError("disk went away")
        yield from original(path, *args, **kwargs)

    original = reading.read_file
    monkeypatch.setattr(reading, "read_file", broken)

    with pytest.raises(OSError, match="disk went away"):
        import_portfolio(portfolio_dir)

    assert Account.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_first_load_on_postgresql_leaves_the_tables_vacuumed(portfolio_dir):
    if connection.vendor != "postgresql":
        pytest.skip("VACUUM after a first load is PostgreSQL's")

    import_portfolio(portfolio_dir)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relallvisible > 0", [TABLES]
        )
        assert {row[0] for row in cursor.fetchall()} >= {
            "ledger_account", "ledger_instalment", "ledger_ledgerentry", "contact_contact",
        }  # fmt: skip
    assert check_ledger() == (4, [])


def test_clean_first_load_skips_the_stage_and_writes_the_same_rows(portfolio_dir, monkeypatch):
    from datetime import UTC, datetime

    from django.db import transaction

    from doorstep.intake.importer import _Writer

    at = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    class Undo(Exception):
        pass

    def staged_import_rolled_back() -> dict:
        with transaction.atomic():
            import_portfolio(portfolio_dir, at=at)
            raise Undo(snapshot(ciphertext=False))

    with monkeypatch.context() as patch:
        patch.setattr(_Writer, "direct", lambda self, *args, **kwargs: None)
        with pytest.raises(Undo) as undone:
            staged_import_rolled_back()
    staged = undone.value.args[0]
    assert Account.objects.count() == 0
    staged_files = []
    stage = _Writer.stage
    monkeypatch.setattr(
        _Writer, "stage", lambda self, name, *a: staged_files.append(name) or stage(self, name, *a)
    )

    result = import_portfolio(portfolio_dir, at=at)

    assert snapshot(ciphertext=False) == staged
    assert staged_files == ["regions", "holds"]
    assert Borrower.objects.get(pk="B0001").national_id() == "440305198803121233"
    assert result.rows_written["instalments"] == Instalment.objects.count()
    assert check_ledger() == (4, [])


def test_a_portfolio_of_many_rows_is_written_whole_and_in_file_order_on_both_paths(
    tmp_path, monkeypatch
):
    """More rows than one multi-row INSERT holds (STAGE_ROWS) in every file, so the full
    statements and the remainder are both used; payments carry five values that every row
    shares (kind, source, recorded_by, recorded_at, note), contacts one."""
    from datetime import UTC, datetime

    from django.db import transaction

    from doorstep.intake.importer import STAGE_ROWS, _Writer
    from doorstep.synth import generate_portfolio

    directory = tmp_path / "portfolio"
    counts = generate_portfolio(directory, accounts=150, seed=5, as_of=date(2026, 10, 31))
    assert min(counts.instalments, counts.payments, counts.contacts) > STAGE_ROWS
    assert counts.payments % STAGE_ROWS
    assert counts.contacts % STAGE_ROWS
    at = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    class Undo(Exception):
        pass

    def staged_import_rolled_back() -> dict:
        with transaction.atomic():
            import_portfolio(directory, at=at, by="nightly import")
            raise Undo(snapshot(ciphertext=False))

    with monkeypatch.context() as patch:
        patch.setattr(_Writer, "direct", lambda self, *args, **kwargs: None)
        with pytest.raises(Undo) as undone:
            staged_import_rolled_back()
    staged = undone.value.args[0]

    result = import_portfolio(directory, at=at, by="nightly import")

    assert snapshot(ciphertext=False) == staged
    assert result.rows_written == {
        "regions": counts.regions, "borrowers": counts.borrowers, "accounts": counts.accounts,
        "instalments": counts.instalments, "payments": counts.payments,
        "contacts": counts.contacts, "holds": counts.holds,
    }  # fmt: skip
    payments = pacsv.read_csv(directory / "payments.csv").column("payment_id").to_pylist()
    entries = LedgerEntry.objects.order_by("id")
    assert list(entries.values_list("reference", flat=True)) == payments
    assert set(entries.values_list("kind", "source", "recorded_by", "recorded_at", "note")) == {
        ("payment", "import", "nightly import", at, "")
    }
    assert set(Contact.objects.values_list("source", flat=True)) == {"import"}
    assert Borrower.objects.count() == counts.borrowers
    assert check_ledger() == (counts.accounts, [])


def _email_column(directory: Path, keep: int) -> None:
    """Rewrite borrowers.csv with only its first `keep` columns (dropping email when it is last)."""
    path = directory / "borrowers.csv"
    rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("\n".join(",".join(row[:keep]) for row in rows) + "\n", encoding="utf-8")


def test_an_email_is_kept_encrypted_and_a_file_without_the_column_keeps_it(portfolio_dir):
    import_portfolio(portfolio_dir)
    first = Borrower.objects.get(pk="B0001")
    assert first.email() == "zhang.wei@example.com"
    assert "zhang" not in first.email_encrypted
    assert Borrower.objects.get(pk="B0002").email() == ""

    _email_column(portfolio_dir, keep=9)  # the same file without its email column
    import_portfolio(portfolio_dir)
    assert Borrower.objects.get(pk="B0001").email() == "zhang.wei@example.com"


def test_an_empty_email_in_the_file_clears_a_wrong_one(portfolio_dir):
    import_portfolio(portfolio_dir)
    rewrite(portfolio_dir / "borrowers.csv", "zhang.wei@example.com", "")
    result = import_portfolio(portfolio_dir)
    assert result.rows_written["borrowers"] == 1
    assert Borrower.objects.get(pk="B0001").email() == ""


def test_a_malformed_email_names_its_line(portfolio_dir, database):
    rewrite(portfolio_dir / "borrowers.csv", "zhang.wei@example.com", "zhang.wei at example")

    problems = rejected(portfolio_dir)

    database.check(
        problems,
        "borrowers.csv, line 2, field email: is not an email address such as name@example.com "
        "(got 'zhang.wei at example')",
    )
