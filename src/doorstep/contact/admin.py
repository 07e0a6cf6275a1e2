from django.contrib import admin

from doorstep.contact.models import Contact
from doorstep.ledger.admin import ReadOnlyAdmin


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "at", "channel", "outcome", "ptp_amount_cents", "ptp_date"]
    list_filter = ["channel", "outcome"]
    search_fields = ["id", "account__id"]
