"""The audit trail: append-only entries chained by hashes, the chain's head, and anchors.

Entries are never edited or deleted (the database refuses both, see migration 0002); the head row
serialises appenders; anchors copy the head outside the chain's reach (a file under the var dir)
so that a rewrite of the whole chain in the database is still detectable.
"""

import json

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

APPEND_ONLY = "audit entries are append-only"


class AuditEntry(models.Model):
    """One recorded event. `seq` is gapless from 1; `hash` = sha256(prev_hash + the canonical
    serialisation of the other fields) (`doorstep.audit.chain.entry_hash`)."""

    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)  # a username, "system" or "cli:<os user>"
    code = models.CharField(max_length=64)  # namespaced: payment.posted, nightly.completed
    obj_type = models.CharField(max_length=64, blank=True, default="")  # app_label.model
    obj_id = models.CharField(max_length=64, blank=True, default="")
    # Canonical JSON text, hashed exactly as stored (a jsonb column would re-serialise it).
    data = models.TextField(default="{}")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["seq"]
        indexes = [models.Index(fields=["obj_type", "obj_id"], name="audit_entry_object")]
        constraints = [models.CheckConstraint(condition=Q(seq__gte=1), name="audit_seq_positive")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.code} by {self.actor}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(APPEND_ONLY)

    @property
    def payload(self) -> dict:
        return json.loads(self.data)


class AuditHead(models.Model):
    """The chain's last seq and hash, one row (id 1): appenders lock it, so two transactions can
    never chain onto the same entry."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="audit_head_single_row")]

    def __str__(self) -> str:
        return f"head #{self.seq}"


class AuditAnchor(models.Model):
    """The head as it was at a moment, also appended to the anchor file (`doorstep audit anchor`)."""

    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    by = models.CharField(max_length=150)

    class Meta:
        ordering = ["seq", "id"]

    def __str__(self) -> str:
        return f"anchor #{self.seq} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("audit anchors are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit anchors are append-only")
