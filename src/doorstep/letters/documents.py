"""What each printable document says, as plain values. Callers (the visits app) build these from
the database; the letters package only lays them out, so it reads no database itself.

Texts a caller supplies (purpose, product label, legal basis, options, reasons) are already in the
document's language; money is integer cents; times are the borrower's local time."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from typing import Literal

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

# The rule pack's visit hours (cn-default: cn.hours.visit); a caller under another pack passes its own.
VISIT_HOURS = (time(8), time(20))


class LetterInvalid(ValueError):
    """A document whose content contradicts itself; the message names the field. English only, for
    developers: doorstep builds every document from its own records, so this is a bug in the
    caller, never a reader's mistake. No page or command shows the message (it is a server error
    and a log line); the case file drops a stale notice instead."""

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


def _filled(instance, *names: str) -> None:
    for name in names:
        value = getattr(instance, name)
        if not isinstance(value, str) or not value.strip():
            raise LetterInvalid(f"{name} must not be empty")


def _amount(name: str, value: object, *, positive: bool = False) -> None:
    """Integer cents (a bool is no amount), at least zero, or above it when `positive`."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise LetterInvalid(f"{name} must be integer cents, not {value!r}")
    if value < 0 or (positive and value == 0):
        raise LetterInvalid(f"{name} must be {'above' if positive else 'at least'} zero")


def _aware(name: str, moment: datetime) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise LetterInvalid(f"{name} must carry its time zone")


def _web_address(name: str, url: str) -> None:
    if not url.startswith(("https://", "http://")):
        raise LetterInvalid(f"{name} must be an http(s) address: the borrower types or scans it")


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
    reschedule_until: date  # the last day the visit may be moved to, answering today
    visit_hours: tuple[time, time] = VISIT_HOURS

    def __post_init__(self) -> None:
        _tuples(self)
        _language(self.language)
        if not self.issued_on < self.reschedule_until:
            raise LetterInvalid("issued_on < reschedule_until")
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
            _web_address(name, getattr(self, name))


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


_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class SettlementCertificate:
    """结清证明: issued to the borrower once the account is paid off (DOMAIN §7): as of
    settled_on everything owed under the account is repaid (waivers included), no balance remains
    and the lender has no further claim under it; with guidance on the credit report (征信).

    Anyone can check the certificate at verify_url (printed and as a QR code); fingerprint is the
    sha256 of the certificate's facts, computed by the caller, printed so that a paper copy can be
    compared with what the verify page shows."""

    reference: str
    language: Language
    lender_name: str
    lender_phone: str
    issued_on: date
    borrower_name: str
    masked_national_id: str
    account_id: str
    product_label: str
    opened_on: date
    principal_cents: int
    settled_on: date
    total_paid_cents: int
    total_waived_cents: int
    verify_url: str
    fingerprint: str

    def __post_init__(self) -> None:
        _language(self.language)
        _filled(
            self,
            "reference",
            "lender_name",
            "lender_phone",
            "borrower_name",
            "masked_national_id",
            "account_id",
            "product_label",
        )
        if "*" not in self.masked_national_id:
            raise LetterInvalid(
                "masked_national_id must be masked (1101**********1234): the certificate is "
                "printed and shared"
            )
        if self.settled_on < self.opened_on:
            raise LetterInvalid("settled_on must not be before opened_on")
        if self.issued_on < self.settled_on:
            raise LetterInvalid("issued_on must not be before settled_on")
        _amount("principal_cents", self.principal_cents, positive=True)
        _amount("total_paid_cents", self.total_paid_cents)
        _amount("total_waived_cents", self.total_waived_cents)
        # No check that paid + waived covers the principal: a portfolio imported part-way through
        # its life holds only the payments since, and the ledger, not the letter, says settled.
        _web_address("verify_url", self.verify_url)
        if not isinstance(self.fingerprint, str) or not _SHA256_HEX.fullmatch(self.fingerprint):
            raise LetterInvalid("fingerprint must be 64 hex characters (a sha256 hex digest)")


RECORD_KINDS = (
    "payment",
    "charge",
    "waiver",
    "message",
    "call",
    "visit",
    "letter",
    "promise",
    "arrangement",
    "complaint",
    "dispute",
    "hold",
)


@dataclass(frozen=True)
class RecordEvent:
    """One thing that happened on the account. `at` is already in the borrower's local time;
    title and detail are already in the record's language; detail is one line, may be empty."""

    at: datetime
    kind: str
    title: str
    detail: str
    amount_cents: int | None = None

    def __post_init__(self) -> None:
        _aware("at", self.at)
        if self.kind not in RECORD_KINDS:
            raise LetterInvalid(f"kind must be one of {', '.join(RECORD_KINDS)}, not {self.kind!r}")
        _filled(self, "title")
        if self.amount_cents is not None and (
            not isinstance(self.amount_cents, int) or isinstance(self.amount_cents, bool)
        ):
            raise LetterInvalid(
                f"amount_cents must be integer cents or None, not {self.amount_cents!r}"
            )


@dataclass(frozen=True)
class BorrowerRecord:
    """账户往来记录: everything recorded on one account (payments, charges, waivers, every
    contact, promises, arrangements, complaints, disputes, holds), oldest first, for the borrower
    to download from the portal (DOMAIN §7). The figures are as at generated_at; the phone number
    comes masked."""

    reference: str
    language: Language
    lender_name: str
    lender_phone: str
    generated_at: datetime
    borrower_name: str
    masked_phone: str
    account_id: str
    product_label: str
    opened_on: date
    principal_cents: int
    overdue_cents: int
    outstanding_cents: int
    dpd: int
    stage_label: str
    events: tuple[RecordEvent, ...]

    def __post_init__(self) -> None:
        _tuples(self)
        _language(self.language)
        _filled(
            self,
            "reference",
            "lender_name",
            "lender_phone",
            "borrower_name",
            "account_id",
            "product_label",
            "stage_label",
        )
        _aware("generated_at", self.generated_at)
        if "*" not in self.masked_phone:
            raise LetterInvalid("masked_phone must be masked (138****5678): the record is printed")
        _amount("principal_cents", self.principal_cents, positive=True)
        _amount("overdue_cents", self.overdue_cents)
        _amount("outstanding_cents", self.outstanding_cents)
        if self.overdue_cents > self.outstanding_cents:
            raise LetterInvalid("overdue_cents must not exceed outstanding_cents")
        if not isinstance(self.dpd, int) or isinstance(self.dpd, bool) or self.dpd < 0:
            raise LetterInvalid(
                f"dpd must be a whole number of days, at least zero, not {self.dpd!r}"
            )
        for index, event in enumerate(self.events):
            if not isinstance(event, RecordEvent):
                raise LetterInvalid(f"events[{index}] must be a RecordEvent")
            if index and event.at < self.events[index - 1].at:
                raise LetterInvalid(
                    f"events must be in time order, oldest first: events[{index}] "
                    f"({event.at.isoformat()}) is before events[{index - 1}] "
                    f"({self.events[index - 1].at.isoformat()})"
                )


Document = VisitNotice | CaseFile | SettlementCertificate | BorrowerRecord
