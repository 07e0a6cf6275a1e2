"""External agencies, their contracts (which regions, until when), their staff logins, and the
accounts placed with them (DOMAIN §1, §8: placed only with an agency under a valid contract for
the region; a placed account is contacted by that agency only; the agency sees only what is placed
with it, while it is placed)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from doorstep.ledger.models import Account, Region


class Agency(models.Model):
    code = models.CharField(_("code"), primary_key=True, max_length=16)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Contract(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="contracts")
    reference = models.CharField(_("contract reference"), max_length=64, unique=True)
    regions = models.ManyToManyField(Region, related_name="agency_contracts")
    valid_from = models.DateField()
    valid_until = models.DateField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__lte=models.F("valid_until")), name="contract_dates"
            )
        ]

    def __str__(self) -> str:
        return self.reference


class Member(models.Model):
    """A login that works for an agency: it acts as `agency:<code>:<username>`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agency_member"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="members")

    def __str__(self) -> str:
        return f"{self.user} at {self.agency_id}"


class Placement(models.Model):
    """An account handed to an agency from `since`; open until `until` (ended: recalled,
    returned, settled)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="placements")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="placements")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="placements")
    since = models.DateField()
    until = models.DateField(null=True, blank=True)
    placed_by = models.CharField(max_length=150)
    placed_at = models.DateTimeField()
    ended_by = models.CharField(max_length=150, blank=True, default="")
    end_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        permissions = [("place_account", "Can place accounts with agencies and recall them")]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(until__isnull=True), name="one_open_placement"
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="placement_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} with {self.agency_id} since {self.since}"

    def is_open(self, on) -> bool:
        return self.since <= on and (self.until is None or self.until >= on)
