"""The ledger: regions, borrowers, accounts, their schedules and the append-only money entries.

Balances are never edited: every cent that moves is a `LedgerEntry` row, and the figures cached on
`Account` are a projection that `doorstep ledger check` re-derives from the entries.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from doorstep import pii
from doorstep.ledger import privacy
from doorstep.ledger.enums import (
    AccountStatus,
    EntryKind,
    EntrySource,
    FieldCoverage,
    HoldKind,
    Language,
    Product,
)


class Region(models.Model):
    code = models.CharField(_("administrative code"), primary_key=True, max_length=6)
    name = models.CharField(_("name"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    field_coverage = models.CharField(
        _("field coverage"), max_length=16, choices=FieldCoverage.choices
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [
            models.CheckConstraint(
                condition=Q(field_coverage__in=FieldCoverage.values), name="region_coverage_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Borrower(models.Model):
    """A person. National ID and phone are kept only encrypted, with keyed hashes for lookup."""

    id = models.CharField(_("borrower id"), primary_key=True, max_length=32)
    name = models.CharField(_("name"), max_length=100)
    national_id_encrypted = models.TextField(editable=False)
    national_id_hash = models.CharField(max_length=64, db_index=True, editable=False)
    phone_encrypted = models.TextField(editable=False)
    phone_hash = models.CharField(max_length=64, db_index=True, editable=False)
    # Optional; kept only encrypted like the phone. Empty when the borrower gave none.
    email_encrypted = models.TextField(editable=False, blank=True, default="", db_default="")
    address = models.TextField(_("address"))
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="borrowers")
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lon = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ZH)
    # Hash of every imported field, so a re-import of identical data can be recognised as such.
    content_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("borrower")
        verbose_name_plural = _("borrowers")

    def __str__(self) -> str:
        return f"{self.id} {self.name}"

    @property
    def national_id_masked(self) -> str:
        return pii.mask_national_id(self.national_id())

    @property
    def phone_masked(self) -> str:
        return pii.mask_phone(self.phone())

    def national_id(self) -> str:
        """The full number. Callers in staff-facing code must log the reveal."""
        return privacy.configured_cipher().decrypt(self.national_id_encrypted)

    def phone(self) -> str:
        return privacy.configured_cipher().decrypt(self.phone_encrypted)

    def email(self) -> str:
        if not self.email_encrypted:
            return ""
        return privacy.configured_cipher().decrypt(self.email_encrypted)


class Account(models.Model):
    id = models.CharField(_("account id"), primary_key=True, max_length=32)
    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="accounts")
    product = models.CharField(_("product"), max_length=16, choices=Product.choices)
    opened_on = models.DateField(_("opened on"))
    principal_cents = models.BigIntegerField(_("principal (cents)"))
    currency = models.CharField(max_length=3, default="CNY")
    auto_debit = models.BooleanField(default=False)
    # Projection of the entries, maintained by ledger.domain and verified by `ledger check`.
    status = models.CharField(
        max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    settled_on = models.DateField(null=True, blank=True)
    scheduled_cents = models.BigIntegerField(default=0)
    charged_cents = models.BigIntegerField(default=0)
    credited_cents = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(principal_cents__gt=0), name="account_principal_positive"
            ),
            models.CheckConstraint(condition=Q(product__in=Product.values), name="account_product"),
            models.CheckConstraint(
                condition=Q(status=AccountStatus.SETTLED, settled_on__isnull=False)
                | Q(status=AccountStatus.ACTIVE, settled_on__isnull=True),
                name="account_settled_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def balance_cents(self) -> int:
        """Everything owed, due or not, per the projection (may be negative: a credit)."""
        return self.scheduled_cents + self.charged_cents - self.credited_cents


class Instalment(models.Model):
    """One line of the repayment schedule: the contract, not a balance."""

    # No index of its own: the unique (account, seq) constraint leads with it.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="instalments", db_index=False
    )
    seq = models.PositiveIntegerField()
    due_date = models.DateField()
    principal_cents = models.BigIntegerField()
    interest_cents = models.BigIntegerField(default=0)
    fee_cents = models.BigIntegerField(default=0)
    # Running total of principal+interest+fee up to this instalment: lets the portfolio pass find
    # the oldest unpaid instalment without a window function over the whole schedule table.
    cumulative_cents = models.BigIntegerField()

    class Meta:
        ordering = ["account_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["account", "seq"], name="instalment_account_seq"),
            models.CheckConstraint(
                condition=Q(principal_cents__gte=0, interest_cents__gte=0, fee_cents__gte=0),
                name="instalment_amounts_nonnegative",
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "due_date", "cumulative_cents"], name="instalment_due_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} #{self.seq} due {self.due_date}"

    @property
    def scheduled_cents(self) -> int:
        return self.principal_cents + self.interest_cents + self.fee_cents


class LedgerEntry(models.Model):
    """An append-only movement of money. A correction is a new entry that `reverses` an old one.

    `amount_cents` is positive for the entry's own kind (a payment received, a fee charged);
    a reversal carries the opposite sign and points at what it reverses.
    """

    # Indexed by entry_account_date, which leads with it.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    amount_cents = models.BigIntegerField()
    # The local (region time zone) business date the entry counts from.
    effective_on = models.DateField()
    occurred_at = models.DateTimeField()
    instalment = models.ForeignKey(
        Instalment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
        db_index=False,  # partial index below: only charges name an instalment
    )
    reference = models.CharField(max_length=64, null=True, blank=True, unique=True)
    reverses = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        db_index=False,  # the partial unique constraint below indexes the few reversals
    )
    source = models.CharField(max_length=16, choices=EntrySource.choices)
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField()
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["account_id", "effective_on", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        permissions = [("post_payment", "Can post payments")]
        indexes = [
            # Covering for "credit of an account as of a date", the positions pass's hot path.
            models.Index(
                fields=["account", "effective_on", "kind", "amount_cents"],
                name="entry_account_date",
            ),
            models.Index(
                fields=["instalment", "kind", "effective_on"],
                condition=Q(instalment__isnull=False),
                name="entry_charge_instalment",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EntryKind.values), name="entry_kind_valid"),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True, amount_cents__gt=0)
                | Q(reverses__isnull=False, amount_cents__lt=0),
                name="entry_sign_matches_reversal",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[EntryKind.PAYMENT, EntryKind.WAIVER])
                | Q(instalment__isnull=False),
                name="entry_charge_names_instalment",
            ),
            # An entry is reversed at most once.
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="entry_reversed_once"
            ),
            # One late fee per instalment; penalty interest accrues once per instalment and day.
            models.UniqueConstraint(
                fields=["instalment"],
                condition=Q(kind=EntryKind.LATE_FEE, reverses__isnull=True),
                name="entry_one_late_fee",
            ),
            models.UniqueConstraint(
                fields=["instalment", "effective_on"],
                condition=Q(kind=EntryKind.PENALTY_INTEREST, reverses__isnull=True),
                name="entry_one_penalty_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_cents} on {self.effective_on} ({self.account_id})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("ledger entries are append-only; post a reversing entry instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("ledger entries are append-only; post a reversing entry instead")


class IdempotencyRecord(models.Model):
    """Remembers a client's idempotency key with a fingerprint of its request.

    A retry with the same key and the same request returns the first result; the same key with a
    different request is a conflict.
    """

    key = models.CharField(max_length=128, primary_key=True)
    fingerprint = models.CharField(max_length=64)
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key


class Hold(models.Model):
    """Something that stops or limits collection on an account while it is open (DOMAIN §4)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    kind = models.CharField(max_length=20, choices=HoldKind.choices)
    since = models.DateField()
    until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["account_id", "since"]
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "since"], name="hold_unique"),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="hold_until_after_since",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.account_id} since {self.since}"

    def is_open(self, on) -> bool:
        return self.since <= on and (self.until is None or self.until >= on)
