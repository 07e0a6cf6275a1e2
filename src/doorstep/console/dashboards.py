"""Dashboards for managers and supervisors (/console/dashboards/): portfolio by bucket, roll rates,
cure and recovery, visits and promises, complaints and refusals.

Each page reads its figures through `dashboard_queries` (a few set-based statements), shapes them
into `Figure`s — a chart, the table of the same figures beneath it (the accessible version) and a
CSV download of exactly that table — and renders them. docs/console.md defines every figure.
"""

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from doorstep.access import staff_permission
from doorstep.complaints.enums import CaseKind, Category
from doorstep.console import dashboard_queries as q
from doorstep.ledger.enums import ContactChannel, Product
from doorstep.money import yuan, yuan_display
from doorstep.strategy.enums import Stage
from doorstep.visits.enums import Outcome, VisitEvent

PERMISSION = "ledger.view_ledgerentry"
WINDOW_DAYS = 30  # cure and recovery look this many days past the entry (docs/console.md)
PERIOD_DAYS = 30  # the default period of the visits and complaints pages, ending today

# Where a compliance rule comes from (compliance.engine.pack.SOURCES).
RULE_SOURCES = {
    "law": gettext_lazy("Law"),
    "regulation": gettext_lazy("Regulation"),
    "national_standard": gettext_lazy("National standard"),
    "internal_policy": gettext_lazy("Internal policy"),
}


# --- figures: one chart, its table, its CSV -----------------------------------------------------


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"  # text | int | money (cents) | percent (Decimal, one decimal)

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


def _csv_text(kind: str, value) -> str:
    if value is None:
        return ""
    if kind == "money":
        return yuan(value)
    return str(value)


def _display_text(kind: str, value) -> str:
    if value is None:
        return "—"
    if kind == "money":
        return yuan_display(value)
    if kind == "int":
        return f"{value:,}"
    if kind == "percent":
        return f"{value}%"
    return str(value)


@dataclass
class Figure:
    slug: str
    title: str
    columns: list[Column]
    rows: list[tuple]
    chart: dict
    note: str = ""

    @property
    def chart_id(self) -> str:
        return f"{self.slug}-data"

    def csv_rows(self) -> list[list[str]]:
        header = [str(c.label) for c in self.columns]
        body = [
            [_csv_text(c.kind, v) for c, v in zip(self.columns, row, strict=True)]
            for row in self.rows
        ]
        return [header, *body]

    def display_rows(self) -> list[list[dict]]:
        return [
            [
                {"text": _display_text(c.kind, v), "numeric": c.numeric}
                for c, v in zip(self.columns, row, strict=True)
            ]
            for row in self.rows
        ]


def rate(part: int, whole: int) -> Decimal | None:
    """part/whole in percent, one decimal (half up); None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _chart_number(kind: str, value):
    """Charts draw pixels: money in yuan and rates as floats are exact enough there (the table
    and the CSV carry the exact figures)."""
    if value is None:
        return None
    if kind == "money":
        return int(value) / 100
    if kind == "percent":
        return float(value)
    return value


def bar_chart(
    categories, series, *, horizontal: bool = False, stack: bool = False, colors=()
) -> dict:
    """series: (name, kind, values); two kinds (say accounts and money) get two axes. A
    horizontal chart grows with its categories (a line each)."""
    units = {"percent": "%", "money": "¥"}
    kinds = list(dict.fromkeys(s[1] for s in series))
    return {
        "type": "bar",
        "horizontal": horizontal,
        "height": max(320, 26 * len(categories) + 70) if horizontal else None,
        "stack": stack,
        "categories": [str(c) for c in categories],
        "colors": list(colors),
        "series": [
            {
                "name": str(name),
                "unit": units.get(kind, ""),
                "axis": kinds.index(kind),
                "data": [_chart_number(kind, v) for v in values],
            }
            for name, kind, values in series
        ],
    }


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


# --- the selectors -------------------------------------------------------------------------------


class DayForm(forms.Form):
    as_of = forms.DateField(
        label=gettext_lazy("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class EntryForm(PeriodForm):
    by = forms.ChoiceField(
        label=gettext_lazy("Recovery by"),
        required=False,
        choices=[
            ("stage", gettext_lazy("Stage")),
            ("product", gettext_lazy("Product")),
            ("region", gettext_lazy("Region")),
            ("arm", gettext_lazy("Arm")),
        ],
    )


class MonthForm(forms.Form):
    month = forms.ChoiceField(label=gettext_lazy("Month"), required=False)

    def __init__(self, *args, months=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.months = list(months)
        self.fields["month"].choices = [(m, m) for m in self.months]


def _read(form: forms.Form) -> dict:
    """The form's values where given and valid; empty otherwise (the page then uses defaults and
    the form shows its errors)."""
    if not form.is_bound or not form.is_valid():
        return {}
    return {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}


def _shown(form: forms.Form, **values) -> forms.Form:
    """The form as the page shows it: the values the page used where the request gave none."""
    if not form.is_bound:
        form.initial.update(values)
        return form
    data = form.data.copy()
    for name, value in values.items():
        if not data.get(name):
            data[name] = value.isoformat() if isinstance(value, date) else value
    extra = {"months": form.months} if isinstance(form, MonthForm) else {}
    return type(form)(data, **extra)


def _last_close(days: list[date]) -> date:
    """The latest nightly run's date; yesterday when none has run."""
    return days[-1] if days else timezone.localdate() - timedelta(days=1)


# --- portfolio -----------------------------------------------------------------------------------


def portfolio_figures(as_of: date) -> list[Figure]:
    lines = q.portfolio(as_of)
    accounts = sum(line.accounts for line in lines)
    columns = [
        Column(_("Bucket")),
        Column(_("Accounts"), "int"),
        Column(_("Share of accounts (%)"), "percent"),
        Column(_("Overdue (¥)"), "money"),
        Column(_("Outstanding (¥)"), "money"),
    ]
    rows = [
        (line.bucket, line.accounts, rate(line.accounts, accounts), line.overdue, line.outstanding)
        for line in lines
    ]
    total = (
        _("Total"),
        accounts,
        rate(accounts, accounts),
        sum(line.overdue for line in lines),
        sum(line.outstanding for line in lines),
    )
    chart = bar_chart(
        [line.bucket for line in lines],
        [
            (_("Accounts"), "int", [line.accounts for line in lines]),
            (_("Overdue (¥)"), "money", [line.overdue for line in lines]),
        ],
    )
    return [Figure("buckets", _("Accounts and balances by bucket"), columns, [*rows, total], chart)]


def portfolio_page(request) -> dict:
    days = q.close_days()
    form = DayForm(request.GET or None)
    as_of = _read(form).get("as_of") or _last_close(days)
    form = _shown(form, as_of=as_of)
    return {
        "title": _("Portfolio by bucket"),
        "form": form,
        "notes": [
            _(
                "As of the end of %(day)s: positions computed from the ledger; settled accounts "
                "are left out."
            )
            % {"day": as_of.isoformat()}
        ],
        "figures": portfolio_figures(as_of),
    }


# --- roll rates ----------------------------------------------------------------------------------


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"


@dataclass
class RollHistory:
    """Month-end snapshots (the latest nightly run of each month) and what is missing."""

    snapshots: dict[str, date]
    missing: list[str]
    pairs: list[tuple[str, date, date]] = field(default_factory=list)

    def default_month(self) -> str:
        """The latest month whose snapshot is its last day, else the latest month with a pair."""
        complete = [month for month, _before, after in self.pairs if _month_end(after)]
        return complete[-1] if complete else self.pairs[-1][0]


def roll_history(days: list[date]) -> RollHistory:
    snapshots: dict[str, date] = {}
    for day in days:  # oldest first: the month's latest run wins
        snapshots[_month(day)] = day
    missing = []
    if snapshots:
        month, last = min(snapshots), max(snapshots)
        while month != last:
            month = _next_month(month)
            if month not in snapshots:
                missing.append(month)
    pairs = [
        (month, snapshots[_previous_month(month)], day)
        for month, day in sorted(snapshots.items())
        if _previous_month(month) in snapshots
    ]
    return RollHistory(snapshots, missing, pairs)


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + 1:04d}-01" if number == 12 else f"{year:04d}-{number + 1:02d}"


def _month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def _to_labels() -> list[tuple[str, str]]:
    return [
        *((b, b) for b in q.BUCKET_NAMES),
        (q.SETTLED, _("Settled")),
        (q.UNDECIDED, _("No decision")),
    ]


def roll_matrix(month: str, counts: list[q.RollCount], before: date, after: date) -> Figure:
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for c in counts:
        if c.month == month:
            cells[c.from_bucket, c.to] += c.accounts
    targets = _to_labels()
    columns = [
        Column(_("Bucket on %(day)s") % {"day": before.isoformat()}),
        Column(_("Accounts"), "int"),
        *(Column(_("→ %(to)s (%%)") % {"to": t[1]}, "percent") for t in targets),
    ]
    rows, heat = [], []
    for y, source in enumerate(q.BUCKET_NAMES):
        total = sum(cells[source, t[0]] for t in targets)
        rows.append((source, total, *(rate(cells[source, t[0]], total) for t in targets)))
        heat += [
            [x, y, float(rate(cells[source, t[0]], total)), cells[source, t[0]]]
            for x, t in enumerate(targets)
            if cells[source, t[0]]
        ]
    chart = {
        "type": "heatmap",
        "x": [t[1] for t in targets],
        "y": list(q.BUCKET_NAMES),
        "data": heat,
    }
    return Figure(
        "matrix",
        _("Roll rates %(before)s → %(after)s")
        % {"before": before.isoformat(), "after": after.isoformat()},
        columns,
        rows,
        chart,
        note=_(
            "Each row: the accounts with something outstanding in that bucket on the earlier day, "
            "and the share of them in each bucket on the later day."
        ),
    )


def roll_trend(history: RollHistory, counts: list[q.RollCount]) -> Figure:
    """Per month, the share of each bucket's accounts that rolled to a deeper bucket."""
    order = {name: n for n, name in enumerate(q.BUCKET_NAMES)}
    totals: dict[tuple[str, str], int] = defaultdict(int)
    worse: dict[tuple[str, str], int] = defaultdict(int)
    for c in counts:
        totals[c.month, c.from_bucket] += c.accounts
        if c.to in order and order[c.to] > order[c.from_bucket]:
            worse[c.month, c.from_bucket] += c.accounts
    sources = q.BUCKET_NAMES[:-1]  # M6+ cannot roll deeper
    months = [pair[0] for pair in history.pairs]
    columns = [
        Column(_("Month")),
        *(Column(_("%(bucket)s rolled deeper (%%)") % {"bucket": b}, "percent") for b in sources),
    ]
    rows = [
        (month, *(rate(worse[month, b], totals[month, b]) for b in sources)) for month in months
    ]
    chart = {
        "type": "line",
        "categories": months,
        "series": [
            {
                "name": f"{b} →",
                "unit": "%",
                "data": [_chart_number("percent", row[n + 1]) for row in rows],
            }
            for n, b in enumerate(sources)
        ],
    }
    return Figure("trend", _("Forward roll rate by month"), columns, rows, chart)


def rolls_page(request) -> dict:
    history = roll_history(q.close_days())
    months = [pair[0] for pair in reversed(history.pairs)]
    form = MonthForm(request.GET or None, months=months)
    notes = []
    if history.missing:
        notes.append(
            _(
                "No nightly decisions in %(months)s: roll rates into and out of those months "
                "cannot be computed and are not shown."
            )
            % {"months": ", ".join(history.missing)}
        )
    if not history.pairs:
        notes.append(
            _(
                "Roll rates need nightly decisions in two consecutive months; the history has "
                "%(n)s month(s)."
            )
            % {"n": len(history.snapshots)}
        )
        return {"title": _("Roll rates"), "form": form, "notes": notes, "figures": []}
    month = _read(form).get("month") or history.default_month()
    before, after = next(p[1:] for p in history.pairs if p[0] == month)
    form = _shown(form, month=month)
    if not _month_end(after):
        notes.append(
            _("%(month)s is shown to date: its latest nightly decisions are of %(day)s.")
            % {"month": month, "day": after.isoformat()}
        )
    if not _month_end(before):
        notes.append(
            _("The month before %(month)s ends with the nightly decisions of %(day)s.")
            % {"month": month, "day": before.isoformat()}
        )
    counts = q.roll_counts(history.pairs)
    return {
        "title": _("Roll rates"),
        "form": form,
        "notes": notes,
        "figures": [roll_matrix(month, counts, before, after), roll_trend(history, counts)],
    }


# --- cure and recovery ---------------------------------------------------------------------------


def _stage_label(value: str) -> str:
    return _label(Stage, value)


def cure_figure(lines: list[q.CureLine]) -> Figure:
    columns = [
        Column(_("Stage entered")),
        Column(_("Arm")),
        Column(_("Entries"), "int"),
        Column(_("Cured within 30 days"), "int"),
        Column(_("Cure rate (%)"), "percent"),
    ]
    stage_order = {s: n for n, s in enumerate(Stage.values)}
    lines = sorted(lines, key=lambda c: (stage_order.get(c.stage, 99), c.arm))
    rows = [
        (_stage_label(c.stage), c.arm, c.entries, c.cured, rate(c.cured, c.entries)) for c in lines
    ]
    entries, cured = sum(c.entries for c in lines), sum(c.cured for c in lines)
    stages = list(dict.fromkeys(c.stage for c in lines))
    arms = sorted({c.arm for c in lines})
    found = {(c.stage, c.arm): rate(c.cured, c.entries) for c in lines}
    chart = bar_chart(
        [_stage_label(s) for s in stages],
        [(arm, "percent", [found.get((s, arm)) for s in stages]) for arm in arms],
    )
    return Figure(
        "cure",
        _("Cure rate by stage and arm"),
        columns,
        [*rows, (_("Total"), "", entries, cured, rate(cured, entries))] if rows else [],
        chart,
    )


def recovery_figure(dimension: str, lines: list[q.RecoveryLine]) -> Figure:
    def label(line: q.RecoveryLine) -> str:
        if dimension == "stage":
            return _stage_label(line.key)
        if dimension == "product":
            return _label(Product, line.key)
        if dimension == "region":
            return f"{line.key} {line.label}"
        return line.key

    names = dict(EntryForm.base_fields["by"].choices)
    if dimension == "stage":
        order = {s: n for n, s in enumerate(Stage.values)}
        lines = sorted(lines, key=lambda r: order.get(r.key, 99))
    columns = [
        Column(str(names[dimension])),
        Column(_("Entries"), "int"),
        Column(_("Overdue at entry (¥)"), "money"),
        Column(_("Recovered within 30 days (¥)"), "money"),
        Column(_("Recovery rate (%)"), "percent"),
        Column(_("All payments within 30 days (¥)"), "money"),
    ]
    rows = [
        (label(r), r.entries, r.overdue, r.recovered, rate(r.recovered, r.overdue), r.collected)
        for r in lines
    ]
    if rows:
        overdue, recovered = sum(r.overdue for r in lines), sum(r.recovered for r in lines)
        rows.append(
            (
                _("Total"),
                sum(r.entries for r in lines),
                overdue,
                recovered,
                rate(recovered, overdue),
                sum(r.collected for r in lines),
            )
        )
    chart = bar_chart(
        [label(r) for r in lines],
        [(_("Recovery rate (%)"), "percent", [rate(r.recovered, r.overdue) for r in lines])],
        horizontal=dimension == "region",
    )
    return Figure(
        "recovery",
        _("Recovery by %(dimension)s") % {"dimension": str(names[dimension]).lower()},
        columns,
        rows,
        chart,
    )


def entry_period(days: list[date], chosen: dict) -> tuple[date | None, date | None, list[str]]:
    """The entries whose 30 days have passed by the last nightly run: from the first decision
    day (or the chosen start) to the last run minus 30 days (or the chosen end, if earlier)."""
    if not days:
        return None, None, [_("No nightly decisions yet: cure and recovery need their history.")]
    latest = days[-1] - timedelta(days=WINDOW_DAYS)
    start = chosen.get("start") or days[0]
    end = chosen.get("end") or latest
    notes = []
    if end > latest:
        notes.append(
            _(
                "Entries after %(day)s are left out: their 30 days have not passed by the last "
                "nightly decisions (%(last)s)."
            )
            % {"day": latest.isoformat(), "last": days[-1].isoformat()}
        )
        end = latest
    if end < start:
        notes.append(
            _(
                "The decision history (%(first)s to %(last)s) is too short: an entry needs 30 "
                "days of decisions after it."
            )
            % {"first": days[0].isoformat(), "last": days[-1].isoformat()}
        )
        return None, None, notes
    notes.insert(
        0,
        _("Stage entries from %(start)s to %(end)s.")
        % {"start": start.isoformat(), "end": end.isoformat()},
    )
    return start, end, notes


def cure_page(request) -> dict:
    days = q.close_days()
    form = EntryForm(request.GET or None)
    chosen = _read(form)
    dimension = chosen.get("by", "stage")
    start, end, notes = entry_period(days, chosen)
    figures = []
    if start is not None:
        form = _shown(form, start=start, end=end, by=dimension)
        figures = [
            cure_figure(q.cure_counts(start, end, window=WINDOW_DAYS)),
            recovery_figure(dimension, q.recovery_by(dimension, start, end, window=WINDOW_DAYS)),
        ]
    return {"title": _("Cure and recovery"), "form": form, "notes": notes, "figures": figures}


# --- visits ------------------------------------------------------------------------------------


def _period(request) -> tuple[PeriodForm, date, date]:
    form = PeriodForm(request.GET or None)
    chosen = _read(form)
    end = chosen.get("end") or timezone.localdate()
    start = chosen.get("start") or end - timedelta(days=PERIOD_DAYS - 1)
    form = _shown(form, start=start, end=end)
    return form, start, end


def visit_steps_figure(steps: dict[str, int]) -> Figure:
    order = [
        ("propose", _("Proposed")),
        (VisitEvent.APPROVE, _("Approved")),
        (VisitEvent.REJECT, _("Rejected")),
        (VisitEvent.SEND_NOTICE, _("Notice sent")),
        (VisitEvent.DECLINE, _("Declined by the borrower")),
        (VisitEvent.CANCEL, _("Cancelled")),
        (VisitEvent.CHECK_IN, _("Checked in")),
        (VisitEvent.COMPLETE, _("Done (outcome recorded)")),
    ]
    rows = [(label, steps.get(event, 0)) for event, label in order]
    chart = bar_chart([r[0] for r in rows], [(_("Visits"), "int", [r[1] for r in rows])])
    return Figure(
        "steps",
        _("Visits by step"),
        [Column(_("Step")), Column(_("Visits"), "int")],
        rows,
        chart,
    )


def visit_outcomes_figure(outcomes: dict[str, int]) -> Figure:
    done = sum(outcomes.values())
    rows = [
        (str(label), outcomes.get(value, 0), rate(outcomes.get(value, 0), done))
        for value, label in Outcome.choices
    ]
    chart = bar_chart([r[0] for r in rows], [(_("Visits"), "int", [r[1] for r in rows])])
    return Figure(
        "outcomes",
        _("Outcomes of the visits done"),
        [Column(_("Outcome")), Column(_("Visits"), "int"), Column(_("Share (%)"), "percent")],
        rows,
        chart,
    )


def promises_figure(lines: list[q.PromiseLine]) -> Figure:
    columns = [
        Column(_("Made on")),
        Column(_("Promises"), "int"),
        Column(_("Promised (¥)"), "money"),
        Column(_("Kept"), "int"),
        Column(_("Broken"), "int"),
        Column(_("Pending"), "int"),
        Column(_("Kept rate (%)"), "percent"),
        Column(_("Paid toward them (¥)"), "money"),
    ]
    rows = [
        (
            _label(ContactChannel, p.channel),
            p.promises,
            p.promised,
            p.kept,
            p.broken,
            p.pending,
            rate(p.kept, p.kept + p.broken),
            p.paid,
        )
        for p in lines
    ]
    chart = bar_chart(
        [r[0] for r in rows],
        [
            (_("Kept"), "int", [p.kept for p in lines]),
            (_("Broken"), "int", [p.broken for p in lines]),
            (_("Pending"), "int", [p.pending for p in lines]),
        ],
        stack=True,
        colors=("#2f855a", "#c53030", "#a0aec0"),
    )
    return Figure("promises", _("Promises to pay falling due"), columns, rows, chart)


def visits_page(request) -> dict:
    form, start, end = _period(request)
    today = timezone.localdate()
    return {
        "title": _("Visits and promises"),
        "form": form,
        "notes": [
            _("From %(start)s to %(end)s. Promises: those whose promised date falls in the period.")
            % {"start": start.isoformat(), "end": end.isoformat()}
        ],
        "figures": [
            visit_steps_figure(q.visit_steps(start, end)),
            visit_outcomes_figure(q.visit_outcomes(start, end)),
            promises_figure(q.promises(start, end, today=today)),
        ],
    }


# --- complaints and refusals ---------------------------------------------------------------------


def cases_figure(lines: list[q.CaseLine]) -> Figure:
    columns = [
        Column(_("Kind")),
        Column(_("About")),
        Column(_("Filed"), "int"),
        Column(_("Answered"), "int"),
        Column(_("Answered on time"), "int"),
        Column(_("Upheld (fully or partly)"), "int"),
        Column(_("Open"), "int"),
        Column(_("Open past the deadline"), "int"),
    ]
    rows = [
        (
            _label(CaseKind, c.kind),
            _label(Category, c.category),
            c.filed,
            c.answered,
            c.on_time,
            c.upheld,
            c.open,
            c.open_late,
        )
        for c in lines
    ]
    categories = list(dict.fromkeys(c.category for c in lines))
    filed = {(c.kind, c.category): c.filed for c in lines}
    kinds = list(dict.fromkeys(c.kind for c in lines))
    chart = bar_chart(
        [_label(Category, c) for c in categories],
        [
            (_label(CaseKind, kind), "int", [filed.get((kind, c), 0) for c in categories])
            for kind in kinds
        ],
        stack=True,
    )
    return Figure("cases", _("Complaints and disputes filed"), columns, rows, chart)


def refusals_figure(lines: list[q.RefusalLine]) -> Figure:
    total = sum(r.refusals for r in lines)
    columns = [
        Column(_("Rule")),
        Column(_("Source")),
        Column(_("Refusals"), "int"),
        Column(_("Accounts"), "int"),
        Column(_("Share (%)"), "percent"),
    ]
    rows = [
        (r.rule_id, str(RULE_SOURCES.get(r.source, r.source)), r.refusals, r.accounts,
         rate(r.refusals, total))
        for r in lines
    ]  # fmt: skip
    chart = bar_chart(
        [r.rule_id for r in lines],
        [(_("Refusals"), "int", [r.refusals for r in lines])],
        horizontal=True,
    )
    return Figure(
        "refusals", _("Actions refused by the compliance guard, by rule"), columns, rows, chart
    )


def complaints_page(request) -> dict:
    form, start, end = _period(request)
    today = timezone.localdate()
    return {
        "title": _("Complaints and refusals"),
        "form": form,
        "notes": [
            _("Filed or refused from %(start)s to %(end)s; answers and deadlines as of now.")
            % {"start": start.isoformat(), "end": end.isoformat()}
        ],
        "figures": [
            cases_figure(q.cases(start, end, today=today)),
            refusals_figure(q.refusals(start, end)),
        ],
    }


# --- views ---------------------------------------------------------------------------------------

PAGES = {
    "portfolio": portfolio_page,
    "rolls": rolls_page,
    "cure": cure_page,
    "visits": visits_page,
    "complaints": complaints_page,
}


def tabs() -> list[tuple[str, str]]:
    return [
        ("portfolio", _("Portfolio")),
        ("rolls", _("Roll rates")),
        ("cure", _("Cure and recovery")),
        ("visits", _("Visits")),
        ("complaints", _("Complaints and refusals")),
    ]


def headlines() -> list[dict]:
    """The index's small figures: one or two per dashboard, from the same reads."""
    days = q.close_days()
    close = _last_close(days)
    today = timezone.localdate()
    period = (today - timedelta(days=PERIOD_DAYS - 1), today)
    buckets = q.portfolio(close)
    late = [b for b in buckets if b.bucket != "M0"]
    cards = [
        {
            "page": "portfolio",
            "figure": f"{sum(b.accounts for b in late):,}",
            "caption": _("accounts overdue on %(day)s, %(amount)s in all")
            % {"day": close.isoformat(), "amount": yuan_display(sum(b.overdue for b in late))},
        }
    ]
    history = roll_history(days)
    if history.pairs:
        pair = next(p for p in history.pairs if p[0] == history.default_month())
        before, after = pair[1:]
        counts = q.roll_counts([pair])
        m1 = sum(c.accounts for c in counts if c.from_bucket == "M1")
        deeper = sum(
            c.accounts for c in counts if c.from_bucket == "M1" and c.to in q.BUCKET_NAMES[2:]
        )
        figure = rate(deeper, m1)
        cards.append(
            {
                "page": "rolls",
                "figure": _display_text("percent", figure),
                "caption": _("of M1 accounts on %(before)s were deeper on %(after)s")
                % {"before": before.isoformat(), "after": after.isoformat()},
            }
        )
    else:
        cards.append({"page": "rolls", "figure": "—", "caption": _("not enough history yet")})
    start, end, _notes = entry_period(days, {})
    if start is not None:
        cure = q.cure_counts(start, end, window=WINDOW_DAYS)
        cards.append(
            {
                "page": "cure",
                "figure": _display_text(
                    "percent", rate(sum(c.cured for c in cure), sum(c.entries for c in cure))
                ),
                "caption": _("of stage entries from %(start)s to %(end)s cured within 30 days")
                % {"start": start.isoformat(), "end": end.isoformat()},
            }
        )
    else:
        cards.append({"page": "cure", "figure": "—", "caption": _("not enough history yet")})
    steps = q.visit_steps(*period)
    cards.append(
        {
            "page": "visits",
            "figure": f"{steps.get(VisitEvent.COMPLETE, 0):,}",
            "caption": _("visits done in the last 30 days; %(n)s proposed")
            % {"n": f"{steps.get('propose', 0):,}"},
        }
    )
    refused = q.refusals(*period)
    cards.append(
        {
            "page": "complaints",
            "figure": f"{sum(r.refusals for r in refused):,}",
            "caption": _("actions refused by the compliance guard in the last 30 days"),
        }
    )
    names = dict(tabs())
    for card in cards:
        card["title"] = names[card["page"]]
    return cards


@staff_permission(PERMISSION)
def index(request):
    return render(
        request,
        "console/dashboards/index.html",
        {"title": _("Dashboards"), "cards": headlines(), "tabs": tabs()},
    )


@staff_permission(PERMISSION)
def page(request, name: str):
    if name not in PAGES:
        raise Http404(name)
    context = PAGES[name](request)
    return render(
        request,
        "console/dashboards/page.html",
        {**context, "page": name, "tabs": tabs(), "query": request.GET.urlencode()},
    )


@staff_permission(PERMISSION)
def csv_download(request, name: str, figure: str):
    if name not in PAGES:
        raise Http404(name)
    found = next((f for f in PAGES[name](request)["figures"] if f.slug == figure), None)
    if found is None:
        raise Http404(figure)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="doorstep-{name}-{figure}.csv"'
    response.write("\ufeff")  # the BOM: spreadsheet programs then read the Chinese labels right
    csv.writer(response).writerows(found.csv_rows())
    return response


urlpatterns = [
    path("dashboards/", index, name="console-dashboards"),
    path("dashboards/<slug:name>/", page, name="console-dashboard"),
    path("dashboards/<slug:name>/<slug:figure>.csv", csv_download, name="console-dashboard-csv"),
]
