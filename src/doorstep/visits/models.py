"""Field agents and their credentials, teams of two, visits and their history, evidence, and the
log of credential look-ups. A visit changes state only through `visits.domain.transition`."""

from datetime import time

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from doorstep.contact.models import Permit
from doorstep.ledger.models import Account, Region
from doorstep.visits.enums import (
    OPEN_STATES,
    AgentKind,
    Answer,
    EvidenceKind,
    Outcome,
    VisitEvent,
    VisitState,
)


class FieldAgent(models.Model):
    """A person who may visit borrowers, with the credential the borrower can check."""

    credential_no = models.CharField(_("credential number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="field_agent",
    )
    organisation = models.CharField(_("organisation"), max_length=200)
    kind = models.CharField(max_length=16, choices=AgentKind.choices, default=AgentKind.IN_HOUSE)
    regions = models.ManyToManyField(Region, related_name="field_agents")
    photo = models.FileField(upload_to="credentials/", blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["credential_no"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__lte=models.F("valid_until")), name="agent_validity_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.credential_no})"


class Team(models.Model):
    """Two agents who visit together, based somewhere in one region, with a shift and a daily
    capacity. `visits.domain.form_team` is the way to make one (exactly two members)."""

    code = models.CharField(max_length=32, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="teams")
    members = models.ManyToManyField(FieldAgent, related_name="teams")
    base_lat = models.DecimalField(max_digits=9, decimal_places=6)
    base_lon = models.DecimalField(max_digits=9, decimal_places=6)
    shift_start = models.TimeField(default=time(8, 30))
    shift_end = models.TimeField(default=time(19, 30))
    capacity = models.PositiveSmallIntegerField(_("visits a day"), default=8)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Visit(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="visits")
    state = models.CharField(max_length=16, choices=VisitState.choices)
    # The proposal, with the decision's reasons copied as they were (the decision may be redone).
    proposed_on = models.DateField()
    decision_id = models.BigIntegerField(null=True, blank=True)
    reasons = models.JSONField(default=dict)
    dpd = models.IntegerField(default=0)
    overdue_cents = models.BigIntegerField(default=0)
    priority = models.SmallIntegerField(default=1)
    reviewed_by = models.CharField(max_length=150, blank=True, default="")
    review_note = models.TextField(blank=True, default="")
    # The date and window the notice names, and the team a day's plan assigned.
    visit_date = models.DateField(null=True, blank=True)
    window_start = models.TimeField(null=True, blank=True)
    window_end = models.TimeField(null=True, blank=True)
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="visits"
    )
    route_order = models.PositiveSmallIntegerField(null=True, blank=True)
    eta = models.TimeField(null=True, blank=True)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    notice_reference = models.CharField(max_length=40, blank=True, default="")
    notice_pdf = models.FileField(upload_to="notices/", blank=True)
    answer = models.CharField(max_length=16, choices=Answer.choices, blank=True, default="")
    answered_at = models.DateTimeField(null=True, blank=True)
    carried_reason = models.CharField(max_length=200, blank=True, default="")
    # On site.
    permit = models.OneToOneField(
        Permit, on_delete=models.PROTECT, null=True, blank=True, related_name="visit"
    )
    checked_in_at = models.DateTimeField(null=True, blank=True)
    check_in_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_in_lon = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    identity_checked = models.BooleanField(null=True, blank=True)
    address_confirmed = models.BooleanField(null=True, blank=True)
    financial_notes = models.TextField(blank=True, default="")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default="")
    ptp_amount_cents = models.BigIntegerField(null=True, blank=True)
    ptp_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    checked_out_at = models.DateTimeField(null=True, blank=True)
    # Afterwards.
    follow_up_result = models.CharField(max_length=16, blank=True, default="")
    closed_reason = models.CharField(max_length=200, blank=True, default="")
    cancelled_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        permissions = [("review_visit", "Approve or reject proposed visits")]
        indexes = [
            models.Index(fields=["state", "visit_date"], name="visit_state_date"),
            models.Index(fields=["account", "state"], name="visit_account_state"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(state__in=[s.value for s in OPEN_STATES]),
                name="one_open_visit_per_account",
            ),
            models.CheckConstraint(
                condition=Q(window_start__isnull=True) | Q(window_start__lt=models.F("window_end")),
                name="visit_window_order",
            ),
        ]

    def __str__(self) -> str:
        return f"visit {self.id} {self.account_id} {self.state}"


class VisitTransition(models.Model):
    """One move of one visit: who, when, why. Append-only."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="transitions")
    event = models.CharField(max_length=16, choices=VisitEvent.choices)
    from_state = models.CharField(max_length=16, blank=True, default="")
    to_state = models.CharField(max_length=16, choices=VisitState.choices)
    by = models.CharField(max_length=150)
    at = models.DateTimeField()
    reason = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.from_state}->{self.to_state}"


class Evidence(models.Model):
    """A photo or document taken on a visit; type and size are checked before it is kept."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=16, choices=EvidenceKind.choices)
    file = models.FileField(upload_to="evidence/")
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return f"{self.kind} for {self.visit_id}"


class CredentialLookup(models.Model):
    """Every look-up of a credential number on the public page or API, for rate limits and for
    spotting someone probing numbers. The client is kept only as a keyed hash."""

    at = models.DateTimeField()
    client = models.CharField(max_length=64)
    credential_no = models.CharField(max_length=32)
    found = models.BooleanField()
    borrower_id = models.CharField(max_length=32, blank=True, default="")
    limited = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["client", "at"], name="lookup_client_at")]

    def __str__(self) -> str:
        return f"{self.credential_no} at {self.at}"
