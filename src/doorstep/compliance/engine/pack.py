"""A rule pack: which checks apply, with which figures, and where each rule comes from.

The checks themselves are code (`engine.checks`, and the same in SQL in `engine.bulk`); a pack
binds them to channels with figures and cites the source of each rule: law, a national standard,
a regulation, or internal (company) policy. Packs are YAML in `compliance/packs/`, versioned.
"""

from datetime import date, time
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, model_validator

from doorstep.documents import Strict, validation_messages

PACKS_DIR = Path(__file__).resolve().parent.parent / "packs"

CHANNELS = ("sms", "email", "app", "call", "visit", "letter", "third_party_call")
MESSAGE_CHANNELS = ("sms", "email", "app")
SOURCES = ("law", "regulation", "national_standard", "internal_policy")
CHECKS = (
    "settled",  # no contact with a settled account
    "hold",  # kinds: holds that forbid the channel
    "cease",  # the borrower's cease request on the channel or on all
    "inconvenient",  # the borrower's stated inconvenient times
    "hours",  # start/end: local time window
    "quiet_day",  # the pack's quiet days (statutory holidays)
    "template",  # the template must be approved
    "cap",  # at most `limit` in `days` local days (channels counted: `counts`)
    "after_conversation",  # no call within `days` local days after a conversation (0 = same day)
    "third_party",  # borrower-supplied contacts only, to locate, employer objection, cap
    "placed",  # a placed account is contacted only by the agency it is placed with
    # The visit workflow's facts (checked one visit at a time, at check-in; refused in bulk):
    "visit_approved",  # a supervisor (or an approval rule) approved the visit
    "visit_declined",  # the borrower has not declined it
    "visit_notice",  # a notice naming this date went out at least `days` local days before
    "visit_team",  # at least `limit` visitors with valid credentials for the region
)
# Checks that need one visit's facts: the bulk check has none and refuses.
VISIT_CHECKS = ("visit_approved", "visit_declined", "visit_notice", "visit_team")


class PackInvalid(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class Text(Strict):
    en: str
    zh: str


class Rule(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_.-]*$")
    check: str
    channels: tuple[str, ...]
    source: str
    citation: str
    reason: Text
    # Figures (which apply depends on the check).
    start: time | None = None
    end: time | None = None
    limit: int | None = Field(None, ge=0)
    days: int | None = Field(None, ge=0)
    counts: tuple[str, ...] = ()  # channels counted against a cap (default: the rule's channels)
    kinds: tuple[str, ...] = ()  # hold kinds

    @model_validator(mode="after")
    def _consistent(self):
        if self.check not in CHECKS:
            raise ValueError(f"unknown check {self.check!r}; checks are {', '.join(CHECKS)}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}")
        unknown = set(self.channels) | set(self.counts)
        unknown -= set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channels {sorted(unknown)}")
        needs = {
            "hours": ("start", "end"),
            "cap": ("limit", "days"),
            "after_conversation": ("days",),
            "hold": ("kinds",),
            "third_party": ("limit", "days"),
            "visit_notice": ("days",),
            "visit_team": ("limit",),
        }.get(self.check, ())
        missing = [name for name in needs if not getattr(self, name)]
        if "limit" in missing and self.limit == 0:
            missing.remove("limit")
        if "days" in missing and self.days == 0:
            missing.remove("days")
        if missing:
            raise ValueError(f"check {self.check} needs {', '.join(missing)}")
        if self.check == "hours" and not self.start < self.end:
            raise ValueError("start must be before end")
        return self

    @property
    def counted(self) -> tuple[str, ...]:
        return self.counts or self.channels


class Pack(Strict):
    name: str
    version: int
    jurisdiction: str
    description: str = ""
    quiet_days: tuple[date, ...] = ()
    retention_years: int = Field(ge=0)
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _unique(self):
        ids = [r.id for r in self.rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rule ids must be unique: {', '.join(dupes)}")
        return self

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def rules_for(self, channel: str) -> list[Rule]:
        return [r for r in self.rules if channel in r.channels]


def load_pack_text(text: str) -> Pack:
    try:
        return Pack.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise PackInvalid([f"not valid YAML: {error}"]) from None
    except ValidationError as error:
        raise PackInvalid(validation_messages(error, "pack")) from None


def load_pack(name: str) -> Pack:
    path = PACKS_DIR / f"{name}.yaml"
    if not path.exists():
        available = ", ".join(sorted(p.stem for p in PACKS_DIR.glob("*.yaml")))
        raise PackInvalid([f"no rule pack {name!r}; available: {available}"])
    return load_pack_text(path.read_text(encoding="utf-8"))
