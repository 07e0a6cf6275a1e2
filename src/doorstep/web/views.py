from datetime import date

from django.shortcuts import render
from django.utils import timezone

from doorstep.ledger.models import Account, Borrower, Region
from doorstep.ledger.queries import portfolio_by_bucket
from doorstep.strategy.engine.explain import STAGE_NAMES
from doorstep.strategy.queries import latest_stage_counts


def home(request):
    """What doorstep is, what is in the database, and where to go from here."""
    as_of: date = timezone.localdate()
    buckets = portfolio_by_bucket(as_of)
    decided_on, stages = latest_stage_counts()
    chinese = request.LANGUAGE_CODE.startswith("zh")
    context = {
        "as_of": as_of,
        "accounts": Account.objects.count(),
        "borrowers": Borrower.objects.count(),
        "regions": Region.objects.count(),
        "buckets": buckets,
        "in_collections": sum(b.accounts for b in buckets if b.bucket != "M0"),
        "overdue_total": sum(b.overdue for b in buckets),
        "outstanding_total": sum(b.outstanding for b in buckets),
        "decided_on": decided_on,
        "stages": [
            (stage, STAGE_NAMES[stage][1 if chinese else 0], accounts, overdue)
            for stage, accounts, overdue in stages
        ],
    }
    return render(request, "web/home.html", context)
