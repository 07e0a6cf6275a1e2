"""The import format (docs/data-format.md): files, columns, and what each column must hold."""

from dataclasses import dataclass

ID_MAX = 32


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # id | text | email | code6 | date | instant | money | int | coord | bool | enum
    required: bool = True
    choices: tuple[str, ...] = ()
    max_length: int | None = None


@dataclass(frozen=True)
class FileFormat:
    name: str  # file stem: regions, borrowers, ...
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _enum(name: str, *choices: str, required: bool = True) -> Column:
    return Column(name, "enum", required=required, choices=choices)


CHANNELS = ("sms", "email", "app", "call", "visit")
OUTCOMES = (
    "delivered", "reached", "no_answer", "unreachable", "wrong_number", "refused",
    "promise_to_pay", "third_party",
)  # fmt: skip
HOLD_KINDS = (
    "dispute", "complaint", "cease_visit", "visit_declined", "deceased", "bankruptcy",
    "legal_action",
)  # fmt: skip

FORMATS: tuple[FileFormat, ...] = (
    FileFormat(
        "regions",
        (
            Column("region_code", "code6"),
            Column("name", "text", max_length=100),
            Column("time_zone", "tz"),
            _enum("field_coverage", "in_house", "agency", "none"),
        ),
        key=("region_code",),
    ),
    FileFormat(
        "borrowers",
        (
            Column("borrower_id", "id"),
            Column("name", "text", max_length=100),
            Column("national_id", "text", max_length=32),
            Column("phone", "text", max_length=32),
            Column("email", "email", required=False),
            Column("address", "text", max_length=500),
            Column("region_code", "code6"),
            Column("lat", "coord", required=False),
            Column("lon", "coord", required=False),
            _enum("language", "zh", "en", required=False),
        ),
        key=("borrower_id",),
    ),
    FileFormat(
        "accounts",
        (
            Column("account_id", "id"),
            Column("borrower_id", "id"),
            _enum("product", "micro_loan", "instalment", "credit_card"),
            Column("opened_on", "date"),
            Column("principal", "money"),
            Column("currency", "currency", required=False),
            Column("auto_debit", "bool", required=False),
        ),
        key=("account_id",),
    ),
    FileFormat(
        "instalments",
        (
            Column("account_id", "id"),
            Column("seq", "int"),
            Column("due_date", "date"),
            Column("principal_due", "money"),
            Column("interest_due", "money"),
            Column("fee_due", "money"),
        ),
        key=("account_id", "seq"),
    ),
    FileFormat(
        "payments",
        (
            Column("payment_id", "id"),
            Column("account_id", "id"),
            Column("paid_at", "instant"),
            Column("amount", "money"),
        ),
        key=("payment_id",),
    ),
    FileFormat(
        "contacts",
        (
            Column("contact_id", "id"),
            Column("account_id", "id"),
            Column("at", "instant"),
            _enum("channel", *CHANNELS),
            _enum("outcome", *OUTCOMES),
            Column("ptp_amount", "money", required=False),
            Column("ptp_date", "date", required=False),
        ),
        key=("contact_id",),
    ),
    FileFormat(
        "holds",
        (
            Column("account_id", "id"),
            _enum("kind", *HOLD_KINDS),
            Column("since", "date"),
            Column("until", "date", required=False),
        ),
        key=("account_id", "kind", "since"),
    ),
)

BY_NAME = {f.name: f for f in FORMATS}
