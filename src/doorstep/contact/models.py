"""Contacts with borrowers: messages, calls and visits, each a true and traceable record."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from doorstep.ledger.enums import ContactChannel, ContactOutcome
from doorstep.ledger.models import Account


class Contact(models.Model):
    id = models.CharField(_("contact id"), primary_key=True, max_length=40)
    # Indexed by contact_account_at, which leads with it.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="contacts", db_index=False
    )
    at = models.DateTimeField()
    channel = models.CharField(max_length=8, choices=ContactChannel.choices)
    outcome = models.CharField(max_length=16, choices=ContactOutcome.choices)
    ptp_amount_cents = models.BigIntegerField(null=True, blank=True)
    ptp_date = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=16, default="import")
    # Who recorded it (a staff username, a channel adapter); empty for imported history.
    recorded_by = models.CharField(max_length=150, default="", db_default="", blank=True)

    class Meta:
        ordering = ["account_id", "at"]
        indexes = [models.Index(fields=["account", "at"], name="contact_account_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome=ContactOutcome.PROMISE_TO_PAY, ptp_amount_cents__gt=0)
                | ~Q(outcome=ContactOutcome.PROMISE_TO_PAY),
                name="contact_ptp_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.channel} {self.outcome}"
