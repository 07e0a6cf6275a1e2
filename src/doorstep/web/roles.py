"""The staff roles of DOMAIN §1 as Django groups. The console issue refines what each may see;
until then a role grants read access in the admin, and posting payments where the role needs it."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    permissions: tuple[str, ...]


_READ_LEDGER = (
    "ledger.view_region",
    "ledger.view_borrower",
    "ledger.view_account",
    "ledger.view_instalment",
    "ledger.view_ledgerentry",
    "ledger.view_hold",
    "contact.view_contact",
)

ROLES = (
    Role("strategy_manager", _("Strategy manager (策略)"), _READ_LEDGER),
    Role("phone_collector", _("Phone collector (电催)"), (*_READ_LEDGER, "ledger.post_payment")),
    Role(
        "field_supervisor",
        _("Field supervisor (外访主管)"),
        (*_READ_LEDGER, "visits.view_visit", "visits.review_visit"),
    ),
    Role("field_agent", _("Field agent (外访员)"), ("ledger.view_account",)),
    Role("compliance_officer", _("Compliance officer (合规)"), _READ_LEDGER),
    Role("agency", _("External agency (委外机构)"), ("ledger.view_account",)),
)
