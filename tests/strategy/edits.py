"""Edits of the default strategy that tests make, each with its reason texts kept true (a reason
quoting a figure its condition no longer holds is refused: strategy/engine/document.py)."""

VISIT_AT_90 = "dpd >= 90 AND overdue_amount >= 3000"
VISIT_REASONS_AT_90 = ("a visit is considered after 90 days", "逾期90天以上且未还")


def visit_from(text: str, days: int) -> str:
    """The home-visit rule moved from 90 days overdue to `days`, condition and reasons alike."""
    en, zh = VISIT_REASONS_AT_90
    return (
        text.replace(VISIT_AT_90, VISIT_AT_90.replace("90", str(days)))
        .replace(en, en.replace("90", str(days)))
        .replace(zh, zh.replace("90", str(days)))
    )
