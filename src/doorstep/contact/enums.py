"""The outbox's states and the moves between them, as data."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    # Marked before the provider is called: a crash leaves it here, never queued again, so a
    # message is not sent twice (the permit id is the provider's idempotency key for a re-send).
    SENDING = "sending", _("Being handed to the provider")
    SENT = "sent", _("Accepted by the provider")
    FAILED = "failed", _("Refused by the provider or not sendable")
    DELIVERED = "delivered", _("Delivered (receipt)")
    UNDELIVERED = "undelivered", _("Not delivered (receipt)")


MESSAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    MessageStatus.QUEUED: frozenset({MessageStatus.SENDING, MessageStatus.FAILED}),
    MessageStatus.SENDING: frozenset({MessageStatus.SENT, MessageStatus.FAILED}),
    MessageStatus.SENT: frozenset({MessageStatus.DELIVERED, MessageStatus.UNDELIVERED}),
    MessageStatus.FAILED: frozenset(),
    MessageStatus.DELIVERED: frozenset(),
    MessageStatus.UNDELIVERED: frozenset(),
}


class RecipientField(models.TextChoices):
    PHONE = "phone", _("Borrower's phone")
    EMAIL = "email", _("Borrower's email")
    APP_USER = "app_user", _("Borrower's app account")
