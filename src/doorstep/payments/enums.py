from django.db import models
from django.utils.translation import gettext_lazy as _


class IntentState(models.TextChoices):
    PENDING = "pending", _("Waiting for the payment service")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Not paid")
    # The gateway took the money but the ledger would not take it (the account was paid off
    # meanwhile): staff refund it.
    REFUND_DUE = "refund_due", _("Paid twice: refund due")


class Purpose(models.TextChoices):
    FULL = "full", _("Pay off the account")
    OVERDUE = "overdue", _("Pay what is overdue")
    MINIMUM = "minimum", _("Pay the minimum")
    PARTIAL = "partial", _("Pay part")
    ARRANGEMENT = "arrangement", _("Pay the arrangement's next payment")
