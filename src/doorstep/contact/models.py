"""Contacts with borrowers: messages, calls and visits, each a true and traceable record."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from doorstep.contact.enums import MessageStatus, RecipientField
from doorstep.ledger.enums import ContactChannel, ContactOutcome
from doorstep.ledger.models import Account


class Contact(models.Model):
    id = models.CharField(_("contact id"), primary_key=True, max_length=40)
    # Indexed by contact_account_at, which leads with it.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="contacts", db_index=False
    )
    at = models.DateTimeField()
    channel = models.CharField(max_length=16, choices=ContactChannel.choices)
    outcome = models.CharField(max_length=16, choices=ContactOutcome.choices)
    ptp_amount_cents = models.BigIntegerField(null=True, blank=True)
    ptp_date = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=16, default="import")
    # Who recorded it (a staff username, a channel adapter); empty for imported history.
    recorded_by = models.CharField(max_length=150, default="", db_default="", blank=True)
    direction = models.CharField(
        max_length=8, choices=[("outbound", _("Outbound")), ("inbound", _("Inbound"))],
        default="outbound", db_default="outbound",
    )  # fmt: skip
    # The guard's permit it was made on (empty for imported history and inbound contacts).
    permit = models.OneToOneField(
        "contact.Permit", on_delete=models.PROTECT, null=True, blank=True, related_name="contact"
    )
    third_party = models.ForeignKey(
        "contact.ThirdPartyContact", on_delete=models.PROTECT, null=True, blank=True,
        related_name="contacts",
    )  # fmt: skip

    class Meta:
        ordering = ["account_id", "at"]
        indexes = [
            models.Index(fields=["account", "at"], name="contact_account_at"),
            # Promises by the day they fall due (the call queue puts today's first).
            models.Index(
                fields=["ptp_date", "account"],
                condition=Q(outcome=ContactOutcome.PROMISE_TO_PAY),
                name="contact_promise_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome=ContactOutcome.PROMISE_TO_PAY, ptp_amount_cents__gt=0)
                | ~Q(outcome=ContactOutcome.PROMISE_TO_PAY),
                name="contact_ptp_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.channel} {self.outcome}"


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved by compliance")
    REJECTED = "rejected", _("Rejected by compliance")
    RETIRED = "retired", _("Retired")


class Template(models.Model):
    """The text of a message or letter, one version per row; only an approved version is sent."""

    code = models.CharField(max_length=64)
    channel = models.CharField(max_length=16, choices=ContactChannel.choices)
    language = models.CharField(max_length=8, default="zh")
    version = models.PositiveIntegerField()
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT
    )
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    reviewed_by = models.CharField(max_length=150, blank=True, default="")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["code", "channel", "language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "channel", "language", "version"], name="template_version"
            ),
            models.CheckConstraint(
                condition=Q(status__in=TemplateStatus.values), name="template_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}/{self.channel}/{self.language} v{self.version} ({self.status})"


class ThirdPartyRelation(models.TextChoices):
    FAMILY = "family", _("Family")
    FRIEND = "friend", _("Friend")
    EMPLOYER = "employer", _("Employer")
    OTHER = "other", _("Other")


class ThirdPartyContact(models.Model):
    """A person the borrower gave as a way to reach them. The only third parties doorstep knows:
    the database refuses any other origin, so an address book or call log cannot be loaded."""

    id = models.CharField(primary_key=True, max_length=40)
    borrower = models.ForeignKey(
        "ledger.Borrower", on_delete=models.PROTECT, related_name="third_party_contacts"
    )
    name = models.CharField(max_length=100)
    relation = models.CharField(max_length=10, choices=ThirdPartyRelation.choices)
    phone_encrypted = models.TextField(editable=False)
    phone_hash = models.CharField(max_length=64, editable=False)
    supplied_by = models.CharField(max_length=10, default="borrower", editable=False)
    supplied_on = models.DateField()
    employer_objected = models.BooleanField(
        default=False, help_text=_("the borrower objected to contact at their workplace")
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(supplied_by="borrower"), name="third_party_supplied_by_borrower"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.relation}) of {self.borrower_id}"


class Permit(models.Model):
    """The guard's yes to one planned contact, created only by `compliance.domain.authorize`.
    A contact made on it records the permit; one permit, one contact."""

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="permits")
    borrower_id = models.CharField(max_length=32)
    channel = models.CharField(max_length=16, choices=ContactChannel.choices)
    purpose = models.CharField(max_length=16)
    template = models.CharField(max_length=64, blank=True, default="")
    third_party = models.ForeignKey(
        ThirdPartyContact, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.CharField(max_length=150)
    planned_at = models.DateTimeField()
    valid_until = models.DateTimeField()
    pack = models.CharField(max_length=40)
    issued_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["borrower_id", "planned_at"], name="permit_borrower_at")]

    def __str__(self) -> str:
        return f"permit {self.id} {self.channel} {self.account_id}"


class OutboundMessage(models.Model):
    """The outbox: one message (sms, email, app push) made on one permit, from the exact approved
    template version, rendered in the borrower's language. The recipient's clear phone or email is
    read from the borrower at send time and never stored here: only a masked form and which field.
    Changed only through contact.domain (queue_message, send_queued, record_receipt)."""

    id = models.CharField(primary_key=True, max_length=40)
    permit = models.OneToOneField(Permit, on_delete=models.PROTECT, related_name="message")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="messages")
    channel = models.CharField(max_length=16, choices=ContactChannel.choices)
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="messages")
    language = models.CharField(max_length=8)
    text = models.TextField()
    recipient_field = models.CharField(max_length=10, choices=RecipientField.choices)
    recipient_masked = models.CharField(max_length=100)
    status = models.CharField(
        max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    provider_id = models.CharField(max_length=100, blank=True, default="", db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    queued_by = models.CharField(max_length=150)
    queued_at = models.DateTimeField()
    sending_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    receipt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["queued_at", "id"]
        indexes = [models.Index(fields=["status", "queued_at"], name="message_status_queued")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MessageStatus.values), name="message_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["sms", "email", "app"]), name="message_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.channel} {self.status}"
