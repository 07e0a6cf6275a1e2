from django.contrib import admin

from doorstep.contact.models import Contact


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "at", "channel", "outcome", "ptp_amount_cents", "ptp_date"]
    list_filter = ["channel", "outcome"]
    search_fields = ["id", "account__id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
