"""What each printable document says, as plain values. Callers (the visits app) build these from
the database; the letters package only lays them out, so it reads no database itself.

Texts a caller supplies (purpose, product label, legal basis, options, reasons) are already in the
document's language; money is integer cents; times are the borrower's local time."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time
from typing import Literal

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

# The rule pack's visit hours (cn-default: cn.hours.visit); a caller under another pack passes its own.
VISIT_HOURS = (time(8), time(20))


class LetterInvalid(ValueError):
    """A document whose content contradicts itself; the message names the field."""

    code = "letter.invalid"


def _tuples(instance) -> None:
    """Frozen documents hold tuples: a caller's list is copied, so the document cannot change."""
    for field in fields(instance):
        value = getattr(instance, field.name)
        if isinstance(value, list):
            object.__setattr__(instance, field.name, tuple(value))


def _language(language: str) -> None:
    if language not in LANGUAGES:
        raise LetterInvalid(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")


@dataclass(frozen=True)
class Visitor:
    """One of the credentialed staff who will call; the credential's QR code is checkable in the
    borrower portal at the notice's verify_url."""

    name: str
    credential_no: str
    organisation: str


@dataclass(frozen=True)
class VisitNotice:
    """上门核实通知书: tells the borrower who comes, when and why, how to check the visitors, and
    how to confirm, reschedule, decline or pay instead (DOMAIN §5)."""

    reference: str
    language: Language
    lender_name: str
    lender_phone: str
    issued_on: date
    borrower_name: str
    address: str
    account_id: str
    product_label: str
    overdue_cents: int
    outstanding_cents: int
    dpd: int
    visit_date: date
    window_start: time
    window_end: time
    purpose: str
    visitors: tuple[Visitor, ...]
    verify_url: str
    respond_url: str
    pay_url: str
    respond_by: date
    visit_hours: tuple[time, time] = VISIT_HOURS

    def __post_init__(self) -> None:
        _tuples(self)
        _language(self.language)
        start, end = self.visit_hours
        if not start <= self.window_start < self.window_end <= end:
            raise LetterInvalid(
                f"the window {self.window_start:%H:%M}–{self.window_end:%H:%M} must lie within "
                f"visit hours {start:%H:%M}–{end:%H:%M}"
            )
        if not self.visitors:
            raise LetterInvalid("a notice names its visitors")
        if not self.issued_on <= self.respond_by <= self.visit_date:
            raise LetterInvalid("issued_on ≤ respond_by ≤ visit_date")
        if not 0 < self.overdue_cents <= self.outstanding_cents:
            raise LetterInvalid(
                "0 < overdue ≤ outstanding: a notice goes only to an overdue account"
            )
        for name in ("verify_url", "respond_url", "pay_url"):
            if not getattr(self, name).startswith(("https://", "http://")):
                raise LetterInvalid(
                    f"{name} must be an http(s) address: the borrower types or scans it"
                )


@dataclass(frozen=True)
class StatementLine:
    """One movement on the account, oldest first; balance is what is owed after it."""

    posted_on: date
    description: str
    debit_cents: int
    credit_cents: int
    balance_cents: int


@dataclass(frozen=True)
class OverdueLine:
    """What one overdue instalment still owes, by kind."""

    seq: int
    due_date: date
    principal_cents: int
    interest_cents: int
    fee_cents: int
    late_fee_cents: int
    penalty_cents: int
    days_overdue: int

    @property
    def total_cents(self) -> int:
        return (
            self.principal_cents
            + self.interest_cents
            + self.fee_cents
            + self.late_fee_cents
            + self.penalty_cents
        )


@dataclass(frozen=True)
class CaseFile:
    """外访案件资料: one printable file for the field team (DOMAIN §5): the account's statement,
    the overdue breakdown, the contractual and legal basis, the notice as sent, the repayment
    options the agent may offer and why the visit was decided. Internal; the borrower's phone
    number comes masked."""

    reference: str
    language: Language
    generated_at: datetime
    borrower_name: str
    masked_phone: str
    address: str
    account_id: str
    product_label: str
    opened_on: date
    principal_cents: int
    statement: tuple[StatementLine, ...]
    overdue_breakdown: tuple[OverdueLine, ...]
    overdue_cents: int
    outstanding_cents: int
    dpd: int
    bucket: str
    legal_basis: tuple[str, ...]
    notice: VisitNotice | None
    options: tuple[str, ...]
    decision_reasons: tuple[str, ...]

    def __post_init__(self) -> None:
        _tuples(self)
        _language(self.language)
        if self.generated_at.tzinfo is None:
            raise LetterInvalid("generated_at must carry its time zone")
        if "*" not in self.masked_phone:
            raise LetterInvalid("masked_phone must be masked (138****5678): the file is printed")
        breakdown = sum(line.total_cents for line in self.overdue_breakdown)
        if breakdown != self.overdue_cents:
            raise LetterInvalid(
                f"the overdue breakdown sums to {breakdown} cents, the overdue figure is "
                f"{self.overdue_cents}"
            )
        if self.notice is not None and self.notice.account_id != self.account_id:
            raise LetterInvalid("the notice is for another account")

    @property
    def breakdown_totals(self) -> dict[str, int]:
        """Column totals of the overdue breakdown, cents by kind."""
        kinds = ("principal", "interest", "fee", "late_fee", "penalty")
        return {
            kind: sum(getattr(line, f"{kind}_cents") for line in self.overdue_breakdown)
            for kind in kinds
        }


Document = VisitNotice | CaseFile
