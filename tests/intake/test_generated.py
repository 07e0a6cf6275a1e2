"""`doorstep generate` feeding `doorstep import`: what the generator writes imports as written."""

import csv
from datetime import date

import pytest

from doorstep.intake.importer import import_portfolio
from doorstep.ledger.models import Borrower
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
