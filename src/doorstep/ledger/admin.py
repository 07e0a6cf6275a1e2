"""Read-mostly admin: money only moves through domain functions, personal data stays masked."""

from django.contrib import admin

from doorstep.ledger.models import Account, Borrower, Hold, Instalment, LedgerEntry, Region


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "time_zone", "field_coverage"]
    list_filter = ["field_coverage", "time_zone"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Borrower)
class BorrowerAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "national_id_masked", "phone_masked", "region"]
    list_select_related = ["region"]
    search_fields = ["id", "name"]
    fields = ["id", "name", "national_id_masked", "phone_masked", "address", "region", "language"]
    readonly_fields = fields


class InstalmentInline(admin.TabularInline):
    model = Instalment
    fields = ["seq", "due_date", "principal_cents", "interest_cents", "fee_cents"]
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "borrower", "product", "principal_cents", "status", "settled_on"]
    list_filter = ["product", "status", "auto_debit"]
    list_select_related = ["borrower"]
    search_fields = ["id", "borrower__id"]
    inlines = [InstalmentInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "kind", "amount_cents", "effective_on", "reference", "source"]
    list_filter = ["kind", "source"]
    search_fields = ["account__id", "reference"]
    date_hierarchy = "effective_on"


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["account", "kind", "since", "until"]
    list_filter = ["kind"]
