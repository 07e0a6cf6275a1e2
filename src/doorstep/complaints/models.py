"""Complaints and disputes, with their attachments. A case changes only through
`complaints.domain` (file, answer)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from doorstep.complaints.enums import CaseKind, CaseState, Category, Finding
from doorstep.ledger.models import Account, Hold


class Case(models.Model):
    """A complaint, a disputed figure or an objection to a credit-report entry. While it is open
    the account is on hold (collection suspended); the answer is due by `due_on`."""

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(_("kind"), max_length=16, choices=CaseKind.choices)
    category = models.CharField(_("about"), max_length=16, choices=Category.choices)
    text = models.TextField(_("what happened"))
    state = models.CharField(_("state"), max_length=10, choices=CaseState.choices)
    filed_by = models.CharField(max_length=150)
    filed_at = models.DateTimeField()
    from_portal = models.BooleanField(default=False)
    due_on = models.DateField(_("answer due by"))
    hold = models.ForeignKey(Hold, on_delete=models.PROTECT, related_name="cases")
    finding = models.CharField(max_length=12, choices=Finding.choices, blank=True, default="")
    answer = models.TextField(_("answer"), blank=True, default="")
    answered_by = models.CharField(max_length=150, blank=True, default="")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-filed_at"]
        permissions = [("answer_case", "Can answer complaints and disputes")]
        indexes = [models.Index(fields=["state", "due_on"], name="case_queue")]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} on {self.account_id}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to="cases/")
    name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return f"{self.name} on {self.case_id}"
