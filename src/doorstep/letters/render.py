"""Documents to HTML (Django templates) and to PDF (WeasyPrint).

The templates are rendered by an engine of their own, not the project's TEMPLATES setting: a
letter needs no request, context processor or installed app, and renders the same wherever it is
called from (a view, a task, a management command)."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import cache
from pathlib import Path

import segno
from django.template import Context, Engine
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from doorstep.letters.documents import (
    VISIT_HOURS,
    BorrowerRecord,
    CaseFile,
    Document,
    Language,
    SettlementCertificate,
    VisitNotice,
)
from doorstep.letters.texts import TEXTS
from doorstep.money import yuan_display

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

LANGUAGE_TAGS: dict[Language, str] = {"zh": "zh-Hans", "en": "en"}
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS: dict[Language, tuple[str, ...]] = {
    "zh": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def render_html(document: Document) -> str:
    """The document as one self-contained HTML page (styles inline), in its own language."""
    if isinstance(document, VisitNotice):
        name, context = "letters/visit_notice.html", {"notice": _notice(document)}
    elif isinstance(document, CaseFile):
        name, context = "letters/case_file.html", _case_file(document)
    elif isinstance(document, SettlementCertificate):
        name, context = "letters/settlement_certificate.html", _certificate(document)
    elif isinstance(document, BorrowerRecord):
        name, context = "letters/borrower_record.html", _record(document)
    else:
        raise TypeError(f"no layout for {type(document).__name__}")
    return _engine().get_template(name).render(Context(context))


def render_pdf(document: Document) -> bytes:
    """The document as an A4 PDF. Needs the Noto CJK fonts (Debian fonts-noto-cjk): without them
    Chinese comes out as empty boxes. The renderer may fetch nothing but data: URIs (the QR code),
    so no value in a document can make it read a file or the network."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    html = HTML(string=render_html(document), base_url=str(TEMPLATES_DIR), url_fetcher=fetcher)
    return html.write_pdf()


@cache
def _engine() -> Engine:
    return Engine(dirs=[str(TEMPLATES_DIR)], autoescape=True)


def _long_date(day: date, language: Language) -> str:
    if language == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _clock(moment: time) -> str:
    return f"{moment:%H:%M}"


def _stamp(moment: datetime) -> str:
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def _link(url: str) -> SafeString:
    return format_html('<a href="{}">{}</a>', url, url)


class _Texts:
    """The language's fixed texts, each filled with the values (escaped) when a template reads it:
    a document's template reads only its own texts, so only their placeholders need values."""

    def __init__(self, language: Language, values: dict[str, object]) -> None:
        self._texts = TEXTS[language]
        self._values = values

    def __getitem__(self, key: str) -> SafeString | tuple[SafeString, ...]:
        text = self._texts[key]  # KeyError: the template falls back to attribute lookup, then ""
        if isinstance(text, tuple):
            return tuple(self._fill(key, item) for item in text)
        return self._fill(key, text)

    def _fill(self, key: str, text: str) -> SafeString:
        try:
            return format_html(text, **self._values)
        except KeyError as missing:
            # Not a KeyError: the template engine would swallow it and print nothing.
            raise LookupError(f"text {key!r} needs {missing} and the document has none") from None


def _qr_data_uri(url: str) -> str:
    # Error level M survives a creased or smudged letter; the quiet zone of 4 modules is the
    # minimum scanners expect.
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=4)


def _notice(notice: VisitNotice) -> dict[str, object]:
    language = notice.language
    hours_start, hours_end = notice.visit_hours
    values: dict[str, object] = {
        "reference": notice.reference,
        "lender": notice.lender_name,
        "phone": notice.lender_phone,
        "borrower": notice.borrower_name,
        "account": notice.account_id,
        "product": notice.product_label,
        "dpd": notice.dpd,
        "overdue": yuan_display(notice.overdue_cents),
        "outstanding": yuan_display(notice.outstanding_cents),
        "issued": _long_date(notice.issued_on, language),
        "visit_date": _long_date(notice.visit_date, language),
        "weekday": WEEKDAYS[language][notice.visit_date.weekday()],
        "start": _clock(notice.window_start),
        "end": _clock(notice.window_end),
        "hours_start": _clock(hours_start),
        "hours_end": _clock(hours_end),
        "respond_by": _long_date(notice.respond_by, language),
        "reschedule_until": _long_date(notice.reschedule_until, language),
        "verify_url": _link(notice.verify_url),
        "respond_url": _link(notice.respond_url),
        "pay_url": _link(notice.pay_url),
    }
    return {
        "document": notice,
        "lang": LANGUAGE_TAGS[language],
        "t": _Texts(language, values),
        "v": values,
        "qr": _qr_data_uri(notice.respond_url),
    }


def _case_file(case: CaseFile) -> dict[str, object]:
    language = case.language
    hours_start, hours_end = case.notice.visit_hours if case.notice else VISIT_HOURS
    values: dict[str, object] = {
        "reference": case.reference,
        "dpd": case.dpd,
        "hours_start": _clock(hours_start),
        "hours_end": _clock(hours_end),
    }
    totals = case.breakdown_totals
    return {
        "document": case,
        "lang": LANGUAGE_TAGS[language],
        "t": _Texts(language, values),
        "v": values,
        "generated": _stamp(case.generated_at),
        "opened_on": _long_date(case.opened_on, language),
        "figures": {
            "principal": yuan_display(case.principal_cents),
            "overdue": yuan_display(case.overdue_cents),
            "outstanding": yuan_display(case.outstanding_cents),
        },
        "breakdown": [
            {
                "line": line,
                "due_date": line.due_date.isoformat(),
                "amounts": [
                    yuan_display(cents)
                    for cents in (
                        line.principal_cents,
                        line.interest_cents,
                        line.fee_cents,
                        line.late_fee_cents,
                        line.penalty_cents,
                        line.total_cents,
                    )
                ],
            }
            for line in case.overdue_breakdown
        ],
        "breakdown_totals": [
            yuan_display(cents) for cents in (*totals.values(), sum(totals.values()))
        ],
        "statement": [
            {
                "line": line,
                "posted_on": line.posted_on.isoformat(),
                "debit": yuan_display(line.debit_cents) if line.debit_cents else "",
                "credit": yuan_display(line.credit_cents) if line.credit_cents else "",
                "balance": yuan_display(line.balance_cents),
            }
            for line in case.statement
        ],
        "notice": _notice(case.notice) if case.notice else None,
        "notice_summary": _notice_summary(case.notice, language) if case.notice else None,
    }


def _notice_summary(notice: VisitNotice, language: Language) -> dict[str, object]:
    """The notice's essentials in the case file's language (the notice itself may be in the
    borrower's other language)."""
    when = f"{_long_date(notice.visit_date, language)} {WEEKDAYS[language][notice.visit_date.weekday()]}"
    return {
        "reference": notice.reference,
        "issued": _long_date(notice.issued_on, language),
        "when": f"{when} {_clock(notice.window_start)}–{_clock(notice.window_end)}",
        "respond_by": _long_date(notice.respond_by, language),
        "visitors": notice.visitors,
    }


def _certificate(cert: SettlementCertificate) -> dict[str, object]:
    language = cert.language
    values: dict[str, object] = {
        # A reference breaks at its hyphens otherwise, and a reader types it into the verify page.
        "reference": format_html('<span class="nowrap">{}</span>', cert.reference),
        "lender": cert.lender_name,
        "phone": cert.lender_phone,
        "borrower": cert.borrower_name,
        "national_id": cert.masked_national_id,
        "account": cert.account_id,
        "product": cert.product_label,
        "opened": _long_date(cert.opened_on, language),
        "settled": _long_date(cert.settled_on, language),
        "issued": _long_date(cert.issued_on, language),
        "principal": yuan_display(cert.principal_cents),
        "waived": yuan_display(cert.total_waived_cents),
        "verify_url": _link(cert.verify_url),
    }
    return {
        "document": cert,
        "lang": LANGUAGE_TAGS[language],
        "t": _Texts(language, values),
        "v": values,
        "figures": {
            "principal": yuan_display(cert.principal_cents),
            "paid": yuan_display(cert.total_paid_cents),
            "waived": yuan_display(cert.total_waived_cents),
            "balance": yuan_display(0),
        },
        # Eight groups of eight: a reader compares a printed copy group by group.
        "fingerprint": " ".join(cert.fingerprint[i : i + 8] for i in range(0, 64, 8)),
        "qr": _qr_data_uri(cert.verify_url),
    }


def _record(record: BorrowerRecord) -> dict[str, object]:
    language = record.language
    texts = TEXTS[language]
    values: dict[str, object] = {
        "reference": record.reference,
        "lender": record.lender_name,
        "phone": record.lender_phone,
        "account": record.account_id,
        "product": record.product_label,
        "dpd": record.dpd,
        "generated": _stamp(record.generated_at),
        "count": len(record.events),
    }
    return {
        "document": record,
        "lang": LANGUAGE_TAGS[language],
        "t": _Texts(language, values),
        "v": values,
        "page_counter": _page_counter(texts["page_of"]),
        "opened_on": _long_date(record.opened_on, language),
        "figures": {
            "principal": yuan_display(record.principal_cents),
            "overdue": yuan_display(record.overdue_cents),
            "outstanding": yuan_display(record.outstanding_cents),
        },
        "events": [
            {
                "at": f"{event.at:%Y-%m-%d %H:%M}",
                "kind": texts[f"kind_{event.kind}"],
                "title": event.title,
                "detail": event.detail,
                "amount": "" if event.amount_cents is None else yuan_display(event.amount_cents),
            }
            for event in record.events
        ],
    }


def _page_counter(text: str) -> SafeString:
    """'第 {page} 页 / 共 {pages} 页' as a CSS content value: quoted strings around the page
    counters. The text is ours (texts.py); quotes and backslashes are escaped all the same."""
    parts = []
    for piece in re.split(r"({pages?})", text):
        if piece in ("{page}", "{pages}"):
            parts.append(f"counter({piece[1:-1]})")
        elif piece:
            escaped = piece.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
            parts.append(f'"{escaped}"')
    return mark_safe(" ".join(parts))  # noqa: S308 - built from our own text, escaped for CSS
