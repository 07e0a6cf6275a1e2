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

_ARRANGEMENTS = ("arrangements.view_arrangement", "arrangements.decide_arrangement")
_CASES = ("complaints.view_case",)

ROLES = (
    Role(
        "strategy_manager",
        _("Strategy manager (策略)"),
        (*_READ_LEDGER, "strategy.view_strategyversion", "strategy.add_strategyversion"),
    ),
    Role(
        "phone_collector",
        _("Phone collector (电催)"),
        (*_READ_LEDGER, "ledger.post_payment", "contact.add_contact", *_ARRANGEMENTS),
    ),
    # Decides arrangements beyond a collector's authority and answers complaints and disputes
    # (DOMAIN §6, §7: "approval authority (agent, supervisor)").
    Role(
        "collections_supervisor",
        _("Collections supervisor (贷后主管)"),
        (
            *_READ_LEDGER,
            "ledger.post_payment",
            "contact.add_contact",
            *_ARRANGEMENTS,
            *_CASES,
            "complaints.answer_case",
            "strategy.view_strategyversion",
            "placements.place_account",
        ),
    ),
    Role(
        "field_supervisor",
        _("Field supervisor (外访主管)"),
        (*_READ_LEDGER, "visits.view_visit", "visits.review_visit"),
    ),
    Role("field_agent", _("Field agent (外访员)"), ("ledger.view_account",)),
    Role(
        "compliance_officer",
        _("Compliance officer (合规)"),
        (
            *_READ_LEDGER,
            "arrangements.view_arrangement",
            *_CASES,
            "compliance.view_refusal",
            "strategy.view_strategyversion",
        ),
    ),
    # Sees only what is placed with its agency (console.case.access); its logins are Members.
    Role("agency", _("External agency (委外机构)"), ("placements.view_placement",)),
)
