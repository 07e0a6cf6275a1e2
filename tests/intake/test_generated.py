"""`doorstep generate` feeding `doorstep import`: what the generator writes imports as written."""

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from doorstep.intake.importer import ImportRejected, import_portfolio
from doorstep.ledger.models import Account, Borrower
from doorstep.synth import generate_portfolio

pytestmark = pytest.mark.django_db


def test_generated_emails_import_and_an_empty_one_is_no_address(tmp_path):
    generate_portfolio(tmp_path, accounts=300, seed=5, as_of=date(2026, 10, 15))
    with (tmp_path / "borrowers.csv").open(encoding="utf-8", newline="") as f:
        emails = {row["borrower_id"]: row["email"] for row in csv.DictReader(f)}
    without = {pk for pk, email in emails.items() if not email}
    assert 0 < len(without) < len(emails)

    import_portfolio(tmp_path)

    assert {b.pk: b.email() for b in Borrower.objects.all()} == emails
    # No address is the column's empty value (NOT NULL, db_default ''), never a ciphertext.
    stored = dict(Borrower.objects.values_list("pk", "email_encrypted"))
    assert {pk for pk, token in stored.items() if token == ""} == without
    assert not Borrower.objects.filter(email_encrypted__isnull=True).exists()


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _generate(directory, *args) -> str:
    out = io.StringIO()
    call_command("generate", str(directory), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.parametrize(
    ("clock", "as_of"),
    [
        # 00:05 in Shanghai is 22:05 of the day before in Urumqi, whose payments are stamped +06:00
        ((0, 5), "2026-10-13"),
        ((2, 5), "2026-10-14"),
        ((23, 55), "2026-10-14"),
    ],
)
def test_generate_by_default_stands_at_yesterdays_close_and_imports_at_once(tmp_path, clock, as_of):
    with time_machine.travel(datetime(2026, 10, 15, *clock, tzinfo=SHANGHAI), tick=False):
        said = _generate(tmp_path, "--accounts", "300")
        result = import_portfolio(tmp_path)
    assert f"as of {as_of} to" in said
    assert result.rows_written["accounts"] == 300
    assert result.rows_written["payments"] == result.rows_read["payments"] > 0


def test_at_0005_yesterday_in_shanghai_is_not_over_in_urumqi(tmp_path):
    """Why the default is the day before yesterday just after midnight: this portfolio has an
    Urumqi payment at 22:40+06:00 on 2026-10-14, 00:40 in Shanghai on the 15th."""
    with time_machine.travel(datetime(2026, 10, 15, 0, 5, tzinfo=SHANGHAI), tick=False):
        _generate(tmp_path / "yesterday", "--accounts", "1000", "--seed", "0", "--as-of",
                  "2026-10-14")  # fmt: skip
        with pytest.raises(ImportRejected) as refused:
            import_portfolio(tmp_path / "yesterday")
        said = _generate(tmp_path / "default", "--accounts", "1000", "--seed", "0")
        import_portfolio(tmp_path / "default")
    assert [(p.field, p.message) for p in refused.value.problems.items] == [
        ("paid_at", "is in the future")
    ]
    assert "as of 2026-10-13 to" in said
    assert Account.objects.count() == 1000
