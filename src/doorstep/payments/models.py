from django.db import models

from doorstep.ledger.models import Account, LedgerEntry
from doorstep.payments.enums import IntentState, Purpose


class PaymentIntent(models.Model):
    """One attempt to pay through a gateway. Its id is the reference the gateway echoes back and
    the ledger's idempotency key, so a callback delivered twice posts once."""

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payment_intents")
    amount_cents = models.BigIntegerField()
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    gateway = models.CharField(max_length=32)
    gateway_ref = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=12, choices=IntentState.choices)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="intent_positive")
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount_cents} on {self.account_id}"
