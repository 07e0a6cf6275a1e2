"""The console's navigation: each entry shown only to the roles whose permission it needs."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Entry:
    url_name: str
    label: str
    permission: str


ENTRIES = (
    Entry("console-calls", _("Call queue"), "contact.add_contact"),
    Entry("visit-review", _("Visit proposals"), "visits.review_visit"),
    Entry("console-board", _("Scheduling board"), "visits.view_visit"),
    Entry("queue-arrangements", _("Arrangements"), "arrangements.view_arrangement"),
    Entry("queue-cases", _("Complaints"), "complaints.view_case"),
    Entry("console-placements", _("Placements"), "placements.place_account"),
    Entry("console-agency", _("Placed with us"), "placements.view_placement"),
    Entry("console-refusals", _("Blocked actions"), "compliance.view_refusal"),
    Entry("console-strategy", _("Strategy"), "strategy.view_strategyversion"),
    Entry("console-dashboards", _("Dashboards"), "ledger.view_ledgerentry"),
)


def entries_for(request) -> list[dict]:
    user = request.user
    if not user.is_authenticated:
        return []
    found = []
    for entry in ENTRIES:
        if user.has_perm(entry.permission):
            url = reverse(entry.url_name)
            found.append({"url": url, "label": entry.label, "active": request.path.startswith(url)})
    return found


def console_nav(request) -> dict:
    """Context processor: `console_nav` on every page, worked out only when a page shows it (the
    console's pages): the field agent's and the portal's pages never do, and for a signed-in
    agent it read their permissions (two queries) on every page for nothing."""
    return {"console_nav": SimpleLazyObject(lambda: entries_for(request))}
