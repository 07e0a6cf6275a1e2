"""A strategy document: the YAML a strategy manager edits, validated with pydantic.

Stages come lowest first (the ladder order of DOMAIN §4); `supersedes` stages (suspended,
arrangement) win over the ladder whenever their rule matches. Each rule and gate may carry
overrides for a product, a region or an experiment arm; the first override that applies to an
account replaces the base condition for it.
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from doorstep.documents import Strict, validation_messages
from doorstep.strategy.engine.features import FEATURES
from doorstep.strategy.engine.rules import (
    Condition,
    RuleError,
    add_thresholds,
    exp,
    parse_condition,
)

LADDER = ("none", "pre_due", "reminder", "phone", "home_visit", "legal")
SUPERSEDING = ("suspended", "arrangement")
STAGES = LADDER + SUPERSEDING
ACTION_KINDS = {
    "message": ("sms", "app", "email", "letter"),
    "call_task": ("call",),
    "visit_proposal": ("visit",),
    "placement": ("agency", "legal"),
}
_PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")
_ID = r"^[a-z][a-z0-9_.]*$"
# A figure written in a reason: 3,000 or 90 or 0.5, not part of a word or a longer number (Chinese
# characters count as word characters for \w, so the guard names ASCII only).
_FIGURE = re.compile(
    r"(?<![0-9A-Za-z_.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![0-9A-Za-z_.,])\d+(?:\.\d+)?"
)


class StrategyInvalid(ValueError):
    """The document cannot be used; `errors` lists every problem, each naming where it is."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class Text(Strict):
    en: str
    zh: str

    @field_validator("en", "zh")
    @classmethod
    def _placeholders_are_features(cls, value: str) -> str:
        for name in _PLACEHOLDER.findall(value):
            if name not in FEATURES or FEATURES[name].kind not in ("int", "money", "text"):
                raise ValueError(f"{{{name}}} is not a feature that can be shown in a reason")
        return value


class Override(Strict):
    product: str | None = None
    region: str | None = None
    arm: str | None = None
    when: str

    @model_validator(mode="after")
    def _scoped(self):
        if not (self.product or self.region or self.arm):
            raise ValueError("an override names a product, a region or an arm")
        return self


class Rule(Strict):
    id: str = Field(pattern=_ID)
    when: str
    reason: Text
    overrides: tuple[Override, ...] = ()


class Action(Strict):
    kind: str
    channel: str
    template: str = Field(pattern=_ID)
    cadence: str = Field(pattern=r"^(on_entry|daily|on_dpd)$")
    days: tuple[int, ...] = ()

    @model_validator(mode="after")
    def _consistent(self):
        if self.channel not in ACTION_KINDS.get(self.kind, ()):
            raise ValueError(f"channel {self.channel!r} does not fit action kind {self.kind!r}")
        if (self.cadence == "on_dpd") != bool(self.days):
            raise ValueError("cadence on_dpd needs days, and only it")
        return self


class Stage(Strict):
    id: str
    supersedes: bool = False
    rules: tuple[Rule, ...] = Field(min_length=1)
    gates: tuple[Rule, ...] = ()
    actions: tuple[Action, ...] = ()

    @model_validator(mode="after")
    def _known(self):
        if self.id not in STAGES or self.id == "none":
            raise ValueError(f"unknown stage {self.id!r}; stages are {', '.join(STAGES[1:])}")
        if self.supersedes != (self.id in SUPERSEDING):
            raise ValueError(
                f"stage {self.id} supersedes the ladder only if it is one of "
                f"{', '.join(SUPERSEDING)}"
            )
        return self


class Arm(Strict):
    id: str = Field(pattern=_ID)
    share: int = Field(ge=0, le=100)


class StrategyDocument(Strict):
    name: str
    description: str = ""
    arms: tuple[Arm, ...] = (Arm(id="champion", share=100),)
    none_reason: Text
    stages: tuple[Stage, ...]

    @model_validator(mode="after")
    def _whole(self):
        if sum(arm.share for arm in self.arms) != 100:
            raise ValueError("arm shares must add up to 100")
        ids = [s.id for s in self.stages]
        if len(set(ids)) != len(ids):
            raise ValueError("a stage appears twice")
        ladder = [s for s in ids if s in LADDER]
        if ladder != sorted(ladder, key=LADDER.index):
            raise ValueError(f"ladder stages must come lowest first: {', '.join(LADDER[1:])}")
        rule_ids = [r.id for s in self.stages for r in (*s.rules, *s.gates)]
        duplicates = {r for r in rule_ids if rule_ids.count(r) > 1}
        if duplicates:
            raise ValueError(f"rule ids must be unique: {', '.join(sorted(duplicates))}")
        arms = {a.id for a in self.arms}
        for stage in self.stages:
            for rule in (*stage.rules, *stage.gates):
                for override in rule.overrides:
                    if override.arm and override.arm not in arms:
                        raise ValueError(f"rule {rule.id}: override for unknown arm {override.arm}")
        return self


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its checked conditions: the base one and the overrides in order."""

    id: str
    stage: str
    gate: bool
    base: Condition
    overrides: tuple[tuple[Override, Condition], ...]
    reason: Text

    def conditions(self):
        yield self.base
        for _, condition in self.overrides:
            yield condition


@dataclass(frozen=True)
class Strategy:
    document: StrategyDocument
    rules: tuple[CompiledRule, ...]
    text: str

    @property
    def stages(self) -> tuple[Stage, ...]:
        return self.document.stages

    def stage_rules(self, stage: str, *, gates: bool) -> list[CompiledRule]:
        return self._by_stage.get((stage, gates), [])

    @cached_property
    def _by_stage(self) -> dict[tuple[str, bool], list[CompiledRule]]:
        found: dict[tuple[str, bool], list[CompiledRule]] = {}
        for rule in self.rules:
            found.setdefault((rule.stage, rule.gate), []).append(rule)
        return found

    @cached_property
    def thresholds(self) -> dict[str, frozenset | None]:
        """`Condition.thresholds` over every condition of every rule: per feature, every literal
        it is compared with, or None when some condition reads it another way."""
        found: dict[str, frozenset | None] = {}
        for rule in self.rules:
            for condition in rule.conditions():
                for name, literals in condition.thresholds.items():
                    add_thresholds(found, name, literals)
        return found

    def arm_for(self, bucket: int) -> str:
        """The arm of an account whose stable hash bucket (0..99) is `bucket`."""
        edge = 0
        for arm in self.document.arms:
            edge += arm.share
            if bucket < edge:
                return arm.id
        return self.document.arms[-1].id


def load_strategy(text: str) -> Strategy:
    """Parse, validate and compile a strategy document; raise `StrategyInvalid` with every error."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise StrategyInvalid(
            [f"not valid YAML{where}: {getattr(error, 'problem', error)}"]
        ) from None
    try:
        document = StrategyDocument.model_validate(data)
    except ValidationError as error:
        raise StrategyInvalid(validation_messages(error, "document")) from None
    rules, errors = [], []
    for stage in document.stages:
        for gate, group in ((False, stage.rules), (True, stage.gates)):
            for rule in group:
                try:
                    base = parse_condition(rule.id, rule.when)
                    overrides = tuple(
                        (o, parse_condition(f"{rule.id} (override {n + 1})", o.when))
                        for n, o in enumerate(rule.overrides)
                    )
                except RuleError as error:
                    errors.append(str(error))
                    continue
                errors.extend(
                    _stale_figures(rule.id, rule.reason, [base, *(c for _, c in overrides)])
                )
                rules.append(CompiledRule(rule.id, stage.id, gate, base, overrides, rule.reason))
    if errors:
        raise StrategyInvalid(errors)
    return Strategy(document, tuple(rules), text)


def _figures(text: str) -> list[tuple[Decimal, str]]:
    """The figures written in a text, as values: "3,000" is 3000, "3万" is 30000."""
    found = []
    for match in _FIGURE.finditer(text):
        value = Decimal(match.group().replace(",", ""))
        if text[match.end() : match.end() + 1] == "万":
            value *= 10_000
        found.append((value, match.group()))
    return found


def _stale_figures(rule_id: str, reason: Text, conditions: list[Condition]) -> list[str]:
    """A reason that quotes a figure its condition does not hold: the threshold was edited and the
    text was not, so borrowers and staff would be told a rule that is no longer the rule."""
    held = set()
    for condition in conditions:
        for literal in condition.tree.find_all(exp.Literal):
            if literal.is_number:
                try:
                    held.add(Decimal(literal.this))
                except InvalidOperation:
                    continue
        # A feature's own window ("refusals in the last 30 days") may be quoted too.
        for name in condition.features:
            held |= {value for value, _ in _figures(FEATURES[name].en)}
    errors = []
    for language in ("en", "zh"):
        text = _PLACEHOLDER.sub("", getattr(reason, language))
        for value, figure in dict.fromkeys(_figures(text)):
            if value not in held:
                errors.append(
                    f"rule {rule_id}: its {language} reason quotes {figure}, a figure its "
                    "condition does not contain; write the condition's figures, or show the "
                    "account's with a {placeholder}"
                )
    return errors
