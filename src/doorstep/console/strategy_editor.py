"""The strategy editor (console, part 4): the active strategy, its versions and their diffs; an
editor that checks a document and shows every error at its line; a dry run of an edit's impact
(the from→to stage matrix on the latest decision date); publishing a new version; changing the
champion/challenger shares.

Publishing goes through `strategy.domain.publish_strategy` only. What the domain does not offer
yet lives here, built on its public functions: placing `StrategyInvalid` errors on lines of the
document (the errors are strings; the ones about a rule condition give the line and column inside
the condition, not the document), a dry run that also lists the accounts that change stage and
the arms they fall in, and a rewrite of the arms' shares that keeps every other byte.
"""

import difflib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date

import yaml
from django.contrib import messages
from django.db import connection
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from doorstep.access import staff_permission
from doorstep.strategy import snapshot
from doorstep.strategy.domain import (
    active_version,
    compiled,
    duckdb_decisions,
    publish_strategy,
)
from doorstep.strategy.engine.decide import decisions_sql
from doorstep.strategy.engine.document import STAGES, Strategy, StrategyInvalid, load_strategy
from doorstep.strategy.enums import Stage
from doorstep.strategy.models import Decision, StrategyVersion

VIEW = "strategy.view_strategyversion"
PUBLISH = "strategy.add_strategyversion"
# Accounts listed under the impact matrix; the matrix itself counts every account.
LISTED_ACCOUNTS = 50
EXCERPT_CONTEXT = 2

# --- where an error is in the document ------------------------------------------------------


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    marked: bool


@dataclass(frozen=True)
class Problem:
    """One error of a document, with the lines of the document it is about (1-based; empty when
    it is about the whole document) and, when known, the column on the first of them."""

    message: str
    lines: tuple[int, ...] = ()
    column: int | None = None
    excerpt: tuple[Line, ...] = ()

    @property
    def where(self) -> str:
        if not self.lines:
            return ""
        first, last = self.lines[0], self.lines[-1]
        if first == last:
            if self.column:
                return _("line %(line)s, column %(column)s") % {
                    "line": first,
                    "column": self.column,
                }
            return _("line %(line)s") % {"line": first}
        if len(self.lines) == last - first + 1:
            return _("lines %(first)s–%(last)s") % {"first": first, "last": last}
        return _("lines %(lines)s") % {"lines": ", ".join(str(n) for n in self.lines)}


_RULE_ERROR = re.compile(
    r"^rule (?P<id>[a-z][a-z0-9_.]*)(?: \(override (?P<override>\d+)\))?"
    r"(?: \(line (?P<line>\d+), column (?P<col>\d+)\))?: "
)
_PATH_ERROR = re.compile(r"^(?P<path>[A-Za-z0-9_.]+): ")
_RULE_ID = re.compile(r"[a-z][a-z0-9_]*\.[a-z0-9_.]*[a-z0-9_]")


def _get(node, key: str):
    """The value node of `key` in a mapping node, and the key node (None, None if absent)."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v, k
    return None, None


def _span(node) -> tuple[int, ...]:
    """The 1-based lines a node covers. A block collection ends where the next token starts, at
    column 0 of the following line, so that line is not part of it."""
    first = node.start_mark.line + 1
    last = node.end_mark.line + (1 if node.end_mark.column else 0)
    return tuple(range(first, max(first, last) + 1))


def _rules(root):
    """Every rule and gate mapping node of the document, by id."""
    found: dict[str, list] = {}
    stages, _key = _get(root, "stages")
    for stage in getattr(stages, "value", ()) if isinstance(stages, yaml.SequenceNode) else ():
        for group in ("rules", "gates"):
            rules, _key = _get(stage, group)
            if isinstance(rules, yaml.SequenceNode):
                for rule in rules.value:
                    rule_id, _key = _get(rule, "id")
                    if isinstance(rule_id, yaml.ScalarNode):
                        found.setdefault(rule_id.value, []).append(rule)
    return found


def _position_in_scalar(text: str, node, line: int, col: int) -> tuple[tuple[int, ...], int | None]:
    """Document line and column of (line, col) inside the scalar `node`, or its whole span when
    the scalar's source does not map character for character onto its value (folded, escaped)."""
    value = node.value
    lines = value.split("\n")
    if not 1 <= line <= len(lines):
        return _span(node), None
    if node.style == "|":
        # The indicator's line comes first; the value's lines follow, each with the indentation.
        number = node.start_mark.line + 1 + line
        source = text.splitlines()[number - 1] if number <= len(text.splitlines()) else ""
        indent = len(source) - len(source.lstrip(" "))
        return (number,), indent + col
    quote = 1 if node.style in ('"', "'") else 0
    start = node.start_mark.index + quote
    if node.style in (None, '"', "'") and text[start : start + len(value)] == value:
        offset = start + sum(len(x) + 1 for x in lines[: line - 1]) + col - 1
        before = text[:offset]
        return (before.count("\n") + 1,), offset - (before.rfind("\n") + 1) + 1
    return _span(node), None


def _walk(root, dotted: str) -> tuple[int, ...]:
    """The lines of the deepest node a pydantic error path reaches (a key's line for a mapping or
    a list, the scalar's lines for a value)."""
    node, lines = root, _span(root)[:1]
    for part in dotted.split("."):
        if isinstance(node, yaml.MappingNode):
            value, key = _get(node, part)
            if value is None:
                break
            lines = _span(value) if isinstance(value, yaml.ScalarNode) else _span(key)
            if isinstance(value, yaml.ScalarNode) and key.start_mark.line < value.start_mark.line:
                lines = (key.start_mark.line + 1, *lines)
            node = value
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            lines = _span(node)[:1]
        else:
            break
    return lines


def _locate(text: str, root, message: str) -> tuple[tuple[int, ...], int | None]:
    if message.startswith("not valid YAML"):
        try:
            yaml.compose(text)
        except yaml.YAMLError as error:
            marks = [getattr(error, "context_mark", None), getattr(error, "problem_mark", None)]
            found = sorted({m.line + 1 for m in marks if m is not None})
            problem = getattr(error, "problem_mark", None)
            return tuple(found), (problem.column + 1 if problem else None)
        return (), None
    if root is None:
        return (), None
    rules = _rules(root)
    match = _RULE_ERROR.match(message)
    if match and match["id"] in rules:
        rule = rules[match["id"]][0]
        when, _key = _get(rule, "when")
        if match["override"]:
            overrides, _key = _get(rule, "overrides")
            number = int(match["override"]) - 1
            if isinstance(overrides, yaml.SequenceNode) and number < len(overrides.value):
                when, _key = _get(overrides.value[number], "when")
        if not isinstance(when, yaml.ScalarNode):
            return _span(rule)[:1], None
        if match["line"]:
            return _position_in_scalar(text, when, int(match["line"]), int(match["col"]))
        return _span(when), None
    match = _PATH_ERROR.match(message)
    if match and match["path"] != "document":
        return _walk(root, match["path"]), None
    # A whole-document check: point at the rules it names, or at the arms for their shares.
    named = [m for m in _RULE_ID.findall(message) if m in rules]
    lines = {_span(node)[0] for rule_id in named for node in rules[rule_id]}
    if not lines and "arm" in message:
        _value, key = _get(root, "arms")
        if key is not None:
            lines = {key.start_mark.line + 1}
    return tuple(sorted(lines)), None


def _excerpt(source: list[str], lines: tuple[int, ...]) -> tuple[Line, ...]:
    if not lines:
        return ()
    first = max(1, lines[0] - EXCERPT_CONTEXT)
    last = min(len(source), lines[-1] + EXCERPT_CONTEXT)
    marked = set(lines)
    if last - first > 12:  # several far-apart lines (a rule id used twice): show only those
        return tuple(Line(n, source[n - 1], True) for n in lines if n <= len(source))
    return tuple(Line(n, source[n - 1], n in marked) for n in range(first, last + 1))


def locate_problems(text: str, errors: list[str]) -> list[Problem]:
    """Each error of `StrategyInvalid` with the document lines it is about and an excerpt."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        root = None
    source = text.splitlines()
    problems = []
    for message in errors:
        lines, column = _locate(text, root, message)
        problems.append(Problem(message, lines, column, _excerpt(source, lines)))
    return problems


def examine(text: str, *, name: str) -> tuple[Strategy | None, list[Problem]]:
    """The compiled strategy of an edited document, or every problem it has. The console edits the
    active strategy, so a document under another name (it would not become active) is refused."""
    try:
        strategy = load_strategy(text)
    except StrategyInvalid as invalid:
        return None, locate_problems(text, invalid.errors)
    if strategy.document.name != name:
        message = _(
            "name: the console edits the active strategy, %(name)s; a document named "
            "%(other)s would not become active"
        ) % {"name": name, "other": strategy.document.name}
        [problem] = locate_problems(text, [message])
        return None, [problem]
    return strategy, []


# --- champion/challenger shares -------------------------------------------------------------


class SharesInvalid(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def with_shares(text: str, shares: dict[str, int]) -> str:
    """The document with each arm's share replaced where it is written: only those numbers
    change, every other byte (comments, order, quoting, flow or block style) stays. Raises
    SharesInvalid unless every arm of the document gets a share of 0–100 and they add up to 100."""
    root = yaml.compose(text)
    arms, _key = _get(root, "arms")
    nodes = {}
    for arm in arms.value if isinstance(arms, yaml.SequenceNode) else ():
        arm_id, _key = _get(arm, "id")
        share, _key = _get(arm, "share")
        if isinstance(arm_id, yaml.ScalarNode) and isinstance(share, yaml.ScalarNode):
            nodes[arm_id.value] = share
    if not nodes:
        raise SharesInvalid([_("the document lists no arms: add them in the editor")])
    errors = []
    for arm_id in sorted(set(shares) - set(nodes)):
        errors.append(_("there is no arm %(arm)s") % {"arm": arm_id})
    for arm_id in sorted(set(nodes) - set(shares)):
        errors.append(_("arm %(arm)s needs a share") % {"arm": arm_id})
    for arm_id, share in shares.items():
        if not 0 <= share <= 100:
            errors.append(_("the share of %(arm)s must be 0–100") % {"arm": arm_id})
    if sum(shares.values()) != 100:
        errors.append(
            _("the shares add up to %(total)s, not 100") % {"total": sum(shares.values())}
        )
    if errors:
        raise SharesInvalid(errors)
    for arm_id, node in sorted(nodes.items(), key=lambda item: -item[1].start_mark.index):
        text = text[: node.start_mark.index] + str(shares[arm_id]) + text[node.end_mark.index :]
    return text


def read_shares(post) -> dict[str, int]:
    """The shares posted as `share-<arm id>`; a field that is not a whole number is an error."""
    shares, errors = {}, []
    for key, value in post.items():
        if key.startswith("share-"):
            try:
                shares[key.removeprefix("share-")] = int(value)
            except ValueError:
                errors.append(_("the share of %(arm)s is not a whole number") % {"arm": key[6:]})
    if errors:
        raise SharesInvalid(errors)
    return shares


# --- dry run ----------------------------------------------------------------------------------


@dataclass
class Moved:
    account_id: str
    before: str
    after: str
    dpd: int
    overdue_cents: int
    arm: str
    triggers: str


@dataclass
class Impact:
    as_of: date
    matrix: dict[tuple[str, str], int]
    moved: list[Moved]
    arms_before: dict[str, int] = field(default_factory=dict)
    arms_after: dict[str, int] = field(default_factory=dict)

    @property
    def stages(self) -> list[str]:
        used = {s for pair in self.matrix for s in pair}
        return [s for s in STAGES if s in used]

    @property
    def total(self) -> int:
        return sum(self.matrix.values())

    @property
    def changed(self) -> int:
        return sum(n for (a, b), n in self.matrix.items() if a != b)

    def table(self, label=str) -> dict:
        """Rows (from stage) × columns (to stage), with totals and `label(stage)` for each."""
        stages = self.stages
        rows = []
        for a in stages:
            cells = [(b, self.matrix.get((a, b), 0), a == b) for b in stages]
            rows.append(
                {"stage": a, "label": label(a), "cells": cells, "total": sum(c[1] for c in cells)}
            )
        return {
            "stages": [(s, label(s)) for s in stages],
            "rows": rows,
            "columns": [sum(self.matrix.get((a, b), 0) for a in stages) for b in stages],
            "total": self.total,
        }


def dry_run(as_of: date, old: Strategy, new: Strategy, *, listed: int = LISTED_ACCOUNTS) -> Impact:
    """`strategy_impact` plus what the editor shows beside its matrix, from the same snapshot and
    the same two decision passes: the accounts that change stage (the first `listed`, by id) and
    the accounts in each arm before and after. Reads only."""
    db = duckdb_decisions(as_of, old, snapshot.arrow_snapshot(as_of))
    try:
        # The SQL is compiled from a validated document (see strategy.engine.decide).
        db.execute(f"CREATE TABLE new_dec AS {decisions_sql(new, 'features', 'duckdb')}")
        pairs = "FROM dec o JOIN new_dec n USING (account_id)"
        matrix = {
            (a, b): count
            for a, b, count in db.execute(
                f"SELECT o.stage, n.stage, COUNT(*) {pairs} GROUP BY o.stage, n.stage"
            ).fetchall()
        }
        moved = [
            Moved(*row)
            for row in db.execute(
                f"SELECT account_id, o.stage, n.stage, CAST(n.dpd AS INTEGER), "
                f"CAST(n.overdue_cents AS BIGINT), n.arm, COALESCE(n.triggers, '') {pairs} "
                "WHERE o.stage <> n.stage ORDER BY account_id LIMIT ?",
                [listed],
            ).fetchall()
        ]
        arms = {
            side: dict(db.execute(f"SELECT arm, COUNT(*) FROM {table} GROUP BY arm").fetchall())  # noqa: S608
            for side, table in (("before", "dec"), ("after", "new_dec"))
        }
    finally:
        db.close()
    return Impact(as_of, matrix, moved, arms["before"], arms["after"])


# On SQLite the dry run reads its snapshot through ADBC, which carries its own copy of the SQLite
# library: while it has the file open, another thread's Django connection in the same process has
# its WAL checkpointed and deleted under it ("file is not a database": arrowdb.adbc_connect closes
# only the calling thread's connection). The console's server is threaded, so there the dry run
# runs in a process of its own, which SQLite's locks keep safe. PostgreSQL runs it in place.
_DRY_RUN_CHILD = """
import json, sys
from datetime import date
import django
django.setup()
from django.db import connection
job = json.load(sys.stdin)
connection.settings_dict["NAME"] = job["database"]
from doorstep.console.strategy_editor import dry_run, impact_json
from doorstep.strategy.engine.document import load_strategy
found = dry_run(date.fromisoformat(job["as_of"]), load_strategy(job["old"]),
                load_strategy(job["new"]), listed=job["listed"])
print()  # the answer is the last line, whatever else was printed before it
print(json.dumps(impact_json(found)))
"""
DRY_RUN_SECONDS = 600


def impact_json(impact: Impact) -> dict:
    return {
        "as_of": impact.as_of.isoformat(),
        "matrix": [[a, b, n] for (a, b), n in impact.matrix.items()],
        "moved": [list(vars(m).values()) for m in impact.moved],
        "arms_before": impact.arms_before,
        "arms_after": impact.arms_after,
    }


def dry_run_apart(as_of: date, old: Strategy, new: Strategy, *, listed=LISTED_ACCOUNTS) -> Impact:
    """`dry_run`, safe to call from a threaded web server: in place on PostgreSQL, in a child
    process on SQLite (see _DRY_RUN_CHILD)."""
    if connection.vendor != "sqlite":
        return dry_run(as_of, old, new, listed=listed)
    job = {
        "database": str(connection.settings_dict["NAME"]),
        "as_of": as_of.isoformat(),
        "old": old.text,
        "new": new.text,
        "listed": listed,
    }
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "doorstep.settings"),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and code; the job goes on stdin
        [sys.executable, "-c", _DRY_RUN_CHILD],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        env=env,
        timeout=DRY_RUN_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the dry run failed: {done.stderr[-2000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return Impact(
        date.fromisoformat(found["as_of"]),
        {(a, b): n for a, b, n in found["matrix"]},
        [Moved(*row) for row in found["moved"]],
        found["arms_before"],
        found["arms_after"],
    )


def latest_decision_date() -> date | None:
    return Decision.objects.order_by("-as_of").values_list("as_of", flat=True).first()


def arm_rows(old: Strategy, new: Strategy | None = None, impact: Impact | None = None):
    """Per arm: its share now and (for an edit) as it would be, and the accounts in it."""
    before = {a.id: a.share for a in old.document.arms}
    after = {a.id: a.share for a in new.document.arms} if new else before
    ids = list(before) + [a for a in after if a not in before]
    return [
        {
            "id": arm,
            "share": before.get(arm),
            "new_share": after.get(arm),
            "accounts": impact.arms_before.get(arm, 0) if impact else None,
            "new_accounts": impact.arms_after.get(arm, 0) if impact else None,
        }
        for arm in ids
    ]


# --- views ------------------------------------------------------------------------------------


def _stage_label(stage: str) -> str:
    return Stage(stage).label if stage in Stage.values else stage


def _index_context(request, version: StrategyVersion, posted=None, **extra) -> dict:
    arms = arm_rows(compiled(version))
    for arm in arms:  # what the shares form shows: what was posted, after a refusal
        arm["entered"] = (posted or {}).get(arm["id"], arm["share"])
    history = StrategyVersion.objects.filter(name=version.name).order_by("-version")
    return {
        "version": version,
        "lines": version.document.splitlines(),
        "arms": arms,
        "history": history.only("name", "version", "author", "note", "created_at"),
        "may_publish": request.user.has_perm(PUBLISH),
        **extra,
    }


@staff_permission(VIEW)
def index(request):
    return render(request, "console/strategy/index.html", _index_context(request, active_version()))


@staff_permission(VIEW)
def version_detail(request, name: str, number: int):
    version = get_object_or_404(StrategyVersion, name=name, version=number)
    neighbours = StrategyVersion.objects.filter(name=name)
    return render(
        request,
        "console/strategy/version.html",
        {
            "version": version,
            "lines": version.document.splitlines(),
            "active": active_version(),
            "previous": neighbours.filter(version=number - 1).first(),
            "next": neighbours.filter(version=number + 1).first(),
        },
    )


def _edit_page(request, *, text: str, base, **extra):
    as_of = latest_decision_date()
    return render(
        request,
        "console/strategy/edit.html",
        {"active": active_version(), "text": text, "base": base, "as_of": as_of, **extra},
    )


@staff_permission(PUBLISH)
def edit(request):
    active = active_version()
    return _edit_page(request, text=active.document, base=active.version)


@staff_permission(PUBLISH)
@require_POST
def check(request):
    """The errors of the edited document at their lines, or the diff publishing would record."""
    text, active = _posted_document(request), active_version()
    strategy, problems = examine(text, name=active.name)
    return render(
        request,
        "console/strategy/_check.html",
        {"problems": problems, "strategy": strategy, "diff": _diff(active.document, text)},
    )


def _diff(old: str, new: str) -> list[str]:
    """The diff publishing would record (without its two file-name lines)."""
    return list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2))[2:]


@staff_permission(PUBLISH)
@require_POST
def impact(request):
    """Dry run: the active strategy against the edited one on a date, nothing written."""
    text, active = _posted_document(request), active_version()
    strategy, problems = examine(text, name=active.name)
    if strategy is None:
        return render(request, "console/strategy/_check.html", {"problems": problems})
    try:
        as_of = date.fromisoformat(request.POST.get("as_of", ""))
    except ValueError:
        as_of = latest_decision_date() or timezone.localdate()
    old = compiled(active)
    found = dry_run_apart(as_of, old, strategy)
    return render(
        request,
        "console/strategy/_impact.html",
        {
            "impact": found,
            "table": found.table(_stage_label),
            "arms": arm_rows(old, strategy, found),
            "moved": [
                {
                    **vars(m),
                    "before_label": _stage_label(m.before),
                    "after_label": _stage_label(m.after),
                    "triggers": m.triggers.split(",") if m.triggers else [],
                }
                for m in found.moved
            ],
            "listed": LISTED_ACCOUNTS,
        },
    )


def _posted_document(request) -> str:
    """The edited YAML as typed: browsers send a textarea's lines ended by CR LF (the HTML form
    rules), which would make every line of the stored document and its diff differ."""
    return request.POST.get("document", "").replace("\r\n", "\n")


def _changed_since(base: str, active: StrategyVersion) -> str:
    """Refuse to publish over a version someone published after this page was opened: the edit
    would silently undo theirs."""
    if base != str(active.version):
        return _(
            "%(label)s was published by %(author)s after you opened this page: nothing was "
            "published. Start again from it."
        ) % {"label": active.label, "author": active.author}
    return ""


def _published(request, version: StrategyVersion, before: StrategyVersion):
    if version.pk == before.pk:
        messages.info(request, _("Nothing changed: no new version was published."))
    else:
        messages.success(
            request,
            _("Published %(label)s.") % {"label": version.label},
        )
    return redirect("console-strategy")


@staff_permission(PUBLISH)
@require_POST
def publish(request):
    text, note = _posted_document(request), request.POST.get("note", "").strip()
    active = active_version()
    base = request.POST.get("base", "")
    stale = _changed_since(base, active)
    _strategy, problems = examine(text, name=active.name)
    if stale or problems or not note:
        return _edit_page(
            request,
            text=text,
            base=base,
            note=note,
            stale=stale,
            problems=problems,
            note_missing=not note,
        )
    version = publish_strategy(text, by=request.user.get_username(), note=note)
    return _published(request, version, active)


@staff_permission(PUBLISH)
@require_POST
def shares(request):
    """New arm shares, published as a version like any other edit."""
    active = active_version()
    note = request.POST.get("note", "").strip()
    errors = []
    stale = _changed_since(request.POST.get("base", ""), active)
    if stale:
        errors.append(stale)
    if not note:
        errors.append(_("Say why the shares change: the note is kept with the version."))
    try:
        text = with_shares(active.document, read_shares(request.POST))
    except SharesInvalid as invalid:
        errors.extend(invalid.errors)
    if errors:
        posted = {k.removeprefix("share-"): v for k, v in request.POST.items() if k[:6] == "share-"}
        context = _index_context(request, active, share_errors=errors, note=note, posted=posted)
        return render(request, "console/strategy/index.html", context)
    version = publish_strategy(text, by=request.user.get_username(), note=note)
    return _published(request, version, active)


urlpatterns = [
    path("strategy/", index, name="console-strategy"),
    path("strategy/edit/", edit, name="console-strategy-edit"),
    path("strategy/edit/check/", check, name="console-strategy-check"),
    path("strategy/edit/impact/", impact, name="console-strategy-impact"),
    path("strategy/edit/publish/", publish, name="console-strategy-publish"),
    path("strategy/shares/", shares, name="console-strategy-shares"),
    path(
        "strategy/versions/<str:name>/<int:number>/",
        version_detail,
        name="console-strategy-version",
    ),
]
