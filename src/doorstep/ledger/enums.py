"""Choices of the ledger. Imports nothing local."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Product(models.TextChoices):
    MICRO_LOAN = "micro_loan", _("Revolving micro-loan")
    INSTALMENT = "instalment", _("Consumer instalment loan")
    CREDIT_CARD = "credit_card", _("Credit card")


class FieldCoverage(models.TextChoices):
    IN_HOUSE = "in_house", _("In-house field team")
    AGENCY = "agency", _("Contracted agency")
    NONE = "none", _("No field coverage")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SETTLED = "settled", _("Settled")


class EntryKind(models.TextChoices):
    """What a ledger entry moves. Charges raise what is owed; payments and waivers lower it."""

    PAYMENT = "payment", _("Payment")
    LATE_FEE = "late_fee", _("Late fee")
    PENALTY_INTEREST = "penalty_interest", _("Penalty interest")
    WAIVER = "waiver", _("Waiver")


CHARGE_KINDS = (EntryKind.LATE_FEE, EntryKind.PENALTY_INTEREST)
CREDIT_KINDS = (EntryKind.PAYMENT, EntryKind.WAIVER)


class EntrySource(models.TextChoices):
    IMPORT = "import", _("Import")
    API = "api", _("API")
    PORTAL = "portal", _("Borrower portal")
    SYSTEM = "system", _("System")
    STAFF = "staff", _("Staff")


class ContactChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    APP = "app", _("App push")
    CALL = "call", _("Phone call")
    VISIT = "visit", _("Home visit")
    LETTER = "letter", _("Letter")
    THIRD_PARTY_CALL = "third_party_call", _("Call to a borrower-supplied contact")


class ContactOutcome(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    # A message the provider accepted, before (or without) a delivery receipt; and one whose
    # receipt says it never arrived. Only doorstep's outbox records these, never an import.
    SENT = "sent", _("Sent, not yet confirmed delivered")
    UNDELIVERED = "undelivered", _("Not delivered")
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    UNREACHABLE = "unreachable", _("Unreachable")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    REFUSED = "refused", _("Refused")
    PROMISE_TO_PAY = "promise_to_pay", _("Promise to pay")
    THIRD_PARTY = "third_party", _("Third party answered")


class HoldKind(models.TextChoices):
    DISPUTE = "dispute", _("Open dispute")
    COMPLAINT = "complaint", _("Complaint under investigation")
    CEASE_VISIT = "cease_visit", _("Cease-visit request")
    VISIT_DECLINED = "visit_declined", _("Visit declined")
    DECEASED = "deceased", _("Deceased")
    BANKRUPTCY = "bankruptcy", _("Bankruptcy")
    LEGAL_ACTION = "legal_action", _("Legal action under way")
    # Opened and closed by the arrangements app: escalation holds while an arrangement is kept.
    ARRANGEMENT = "arrangement", _("Repayment arrangement being kept")


class Language(models.TextChoices):
    ZH = "zh", _("Chinese")
    EN = "en", _("English")
