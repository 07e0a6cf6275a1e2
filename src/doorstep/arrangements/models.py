"""Arrangements, their payment lines, the documents behind a hardship request and their history.
An arrangement changes state only through `arrangements.domain.transition`."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from doorstep.arrangements.enums import (
    OPEN_STATES,
    SETTLED_REASON,
    Base,
    Event,
    EvidenceKind,
    Kind,
    State,
)
from doorstep.ledger.models import Account, Hold, LedgerEntry
from doorstep.money import yuan_display


class Arrangement(models.Model):
    """A request for different repayment terms and, once agreed, the terms in force. The terms on
    the row are the current ones (a counter-offer replaces them; the history keeps the asked)."""

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="arrangements")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=12, choices=State.choices)
    base = models.CharField(max_length=12, choices=Base.choices, blank=True, default="")
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    months = models.PositiveSmallIntegerField(_("months"), default=1)
    first_due = models.DateField(_("first payment date"))
    hardship = models.TextField(_("hardship described"), blank=True, default="")
    requested_by = models.CharField(max_length=150)
    requested_at = models.DateTimeField()
    from_portal = models.BooleanField(default=False)
    respond_by = models.DateField(_("answer due by"))
    decided_by = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("reason given"), blank=True, default="")
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    hold = models.OneToOneField(
        Hold, on_delete=models.PROTECT, null=True, blank=True, related_name="arrangement"
    )
    waiver_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-requested_at"]
        permissions = [("decide_arrangement", "Can approve, counter or refuse arrangements")]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(state__in=OPEN_STATES),
                name="one_open_arrangement_per_account",
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="arrangement_amount"),
        ]
        indexes = [models.Index(fields=["state", "respond_by"], name="arrangement_queue")]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} on {self.account_id}"


class Line(models.Model):
    """One payment the arrangement asks for."""

    arrangement = models.ForeignKey(Arrangement, on_delete=models.CASCADE, related_name="lines")
    seq = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    amount_cents = models.BigIntegerField()

    class Meta:
        ordering = ["arrangement_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["arrangement", "seq"], name="arrangement_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.arrangement_id} #{self.seq}"


class Evidence(models.Model):
    """A document behind a hardship request (payslip, medical invoice), kept privately."""

    arrangement = models.ForeignKey(Arrangement, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=16, choices=EvidenceKind.choices)
    file = models.FileField(upload_to="arrangements/")
    name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return f"{self.kind} for {self.arrangement_id}"


class Transition(models.Model):
    arrangement = models.ForeignKey(
        Arrangement, on_delete=models.CASCADE, related_name="transitions"
    )
    event = models.CharField(max_length=12, choices=Event.choices)
    from_state = models.CharField(max_length=12, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=12, choices=State.choices)
    by = models.CharField(max_length=150)
    at = models.DateTimeField()
    reason = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.arrangement_id}: {self.from_state} -> {self.to_state}"

    @property
    def reason_words(self) -> str:
        """The reason as the borrower reads it, in the active language: the system's own reasons
        (a missed payment, the account paid off; stored in English) from the catalogue, what a
        person wrote (a refusal, an offer's note) as written."""
        if self.event == Event.BREAK and {"due_cents", "paid_cents"} <= self.data.keys():
            return gettext("A payment was missed: %(paid)s paid of %(due)s due.") % {
                "paid": yuan_display(self.data["paid_cents"]),
                "due": yuan_display(self.data["due_cents"]),
            }
        if self.reason == SETTLED_REASON:
            return gettext("The account was paid off.")
        return self.reason
