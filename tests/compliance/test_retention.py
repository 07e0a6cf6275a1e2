"""Collection records younger than five years cannot be deleted, by any code path; older ones
may be purged."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from doorstep.contact.models import Contact
from tests.strategy.builder import Portfolio


@pytest.fixture
def contacts(tmp_path, db):
    from doorstep.intake.importer import import_portfolio

    p = Portfolio(timezone.localdate())
    p.account("R1", overdue="100.00", dpd=5)
    p.contact("R1", 1, "call", "no_answer")
    p.contact("R1", 2, "call", "reached")
    import_portfolio(p.write(tmp_path / "p"))


def test_a_recent_collection_record_cannot_be_deleted(contacts):
    recent = Contact.objects.order_by("at").first()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Contact.objects.filter(pk=recent.pk).delete()
    assert Contact.objects.filter(pk=recent.pk).exists()


def test_one_older_than_five_years_may_be_purged(contacts):
    old = Contact.objects.order_by("at").first()
    Contact.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=5 * 366 + 1))
    Contact.objects.filter(pk=old.pk).delete()
    assert Contact.objects.count() == 1
