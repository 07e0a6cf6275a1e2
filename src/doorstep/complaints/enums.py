"""Complaints and disputes (DOMAIN §7): what a borrower may raise and how it is answered."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    DISPUTE_FIGURE = "dispute_figure", _("Dispute of a figure")
    DISPUTE_CREDIT = "dispute_credit", _("Objection to a credit-report entry")


class Category(models.TextChoices):
    CONDUCT = "conduct", _("Staff conduct or language")
    CONTACT = "contact", _("Too many or untimely contacts")
    VISIT = "visit", _("Home visit")
    THIRD_PARTY = "third_party", _("Contact with family, employer or others")
    PRIVACY = "privacy", _("Personal data")
    FEES = "fees", _("Fees or charges")
    PAYMENT = "payment", _("A payment missing or wrongly applied")
    BALANCE = "balance", _("The balance or overdue amount")
    CREDIT_ENTRY = "credit_entry", _("An entry in my credit report")
    OTHER = "other", _("Something else")


class CaseState(models.TextChoices):
    OPEN = "open", _("Being looked into")
    ANSWERED = "answered", _("Answered")


class Finding(models.TextChoices):
    UPHELD = "upheld", _("Upheld: we were wrong and have corrected it")
    PARTLY = "partly", _("Partly upheld")
    NOT_UPHELD = "not_upheld", _("Not upheld: the record stands")


# Which hold a case opens: both suspend collection while the case is open (DOMAIN §7).
HOLD_FOR = {
    CaseKind.COMPLAINT: "complaint",
    CaseKind.DISPUTE_FIGURE: "dispute",
    CaseKind.DISPUTE_CREDIT: "dispute",
}
