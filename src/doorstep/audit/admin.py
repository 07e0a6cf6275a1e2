"""Read-only: audit entries are written by domain functions only, never through the admin."""

from django.contrib import admin

from doorstep.audit.models import AuditAnchor, AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    # Millions of rows: no COUNT(*) of the whole table on every page.
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "at", "actor", "code", "obj_type", "obj_id"]
    # Exact matches only: each hits an index or a short scan, never LIKE over the whole trail.
    search_fields = ["=obj_id", "=code", "=actor"]
    fields = ["seq", "at", "actor", "code", "obj_type", "obj_id", "data", "prev_hash", "hash"]
    readonly_fields = fields


@admin.register(AuditAnchor)
class AuditAnchorAdmin(ReadOnlyAdmin):
    list_display = ["seq", "hash", "at", "by"]
    readonly_fields = ["seq", "hash", "at", "by"]
