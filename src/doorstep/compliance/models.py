"""What the guard needs beyond the ledger and the contact record, and what it refused."""

from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from doorstep.ledger.enums import ContactChannel
from doorstep.ledger.models import Account, Borrower

CEASE_CHANNELS = [("all", _("All channels")), *ContactChannel.choices]


class CeaseRequest(models.Model):
    """The borrower asked not to be contacted on a channel (or on any) from `since`."""

    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="cease_requests")
    channel = models.CharField(max_length=16, choices=CEASE_CHANNELS)
    since = models.DateField()
    until = models.DateField(null=True, blank=True)
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="cease_until_after_since",
            )
        ]

    def __str__(self) -> str:
        return f"cease {self.channel} for {self.borrower_id} since {self.since}"


class InconvenientTime(models.Model):
    """A time the borrower said is inconvenient (every day, or one weekday: 0 = Monday)."""

    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="inconvenient")
    weekday = models.PositiveSmallIntegerField(null=True, blank=True)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")), name="inconvenient_order"
            ),
            models.CheckConstraint(
                condition=Q(weekday__isnull=True) | Q(weekday__lte=6), name="inconvenient_weekday"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.borrower_id} {self.weekday} {self.start}-{self.end}"


class Refusal(models.Model):
    """An action the guard refused, with the rule, its source and the reason (DOMAIN §8)."""

    at = models.DateTimeField()
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="refusals", db_index=False
    )
    borrower_id = models.CharField(max_length=32)
    channel = models.CharField(max_length=16, choices=ContactChannel.choices)
    purpose = models.CharField(max_length=16)
    template = models.CharField(max_length=64, blank=True, default="")
    actor = models.CharField(max_length=150)
    planned_at = models.DateTimeField()
    pack = models.CharField(max_length=40)
    rule_id = models.CharField(max_length=64)
    source = models.CharField(max_length=20)
    citation = models.TextField()
    reason_en = models.TextField()
    reason_zh = models.TextField()

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["account", "at"], name="refusal_account_at"),
            models.Index(fields=["rule_id", "at"], name="refusal_rule_at"),
        ]

    def __str__(self) -> str:
        return f"refused {self.channel} on {self.account_id}: {self.rule_id}"

    @property
    def reason(self) -> str:
        """The reason in the active language (Chinese for zh, English otherwise), the other one
        when the rule left this one empty."""
        zh = (get_language() or "").startswith("zh")
        first, other = (self.reason_zh, self.reason_en) if zh else (self.reason_en, self.reason_zh)
        return first or other
