from django.contrib import admin

from doorstep.contact.models import Contact, OutboundMessage
from doorstep.ledger.admin import ReadOnlyAdmin


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "at", "channel", "outcome", "ptp_amount_cents", "ptp_date"]
    list_filter = ["channel", "outcome"]
    search_fields = ["id", "account__id"]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "account", "channel", "status", "recipient_masked", "queued_at", "sent_at",
        "attempts",
    ]  # fmt: skip
    list_filter = ["channel", "status"]
    search_fields = ["id", "account__id", "provider_id", "permit__id"]
