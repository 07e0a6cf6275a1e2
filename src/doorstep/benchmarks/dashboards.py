"""doorstep bench dashboards [--repeat N]: render every console dashboard on the current database.

Each page (/console/dashboards/ and each dashboard under it, the cure and recovery page once per
recovery grouping) goes through its view as routed by the URL configuration, with a request from
a superuser who is never saved: nothing is written. Once to warm up, then N times; the figures
are milliseconds per page (median and slowest) and the SQL statements one rendering ran. Run it
on a database with some nightly history (docs/console.md says how to build one for the demo).
"""

import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone

PAGES = {
    "index": "/console/dashboards/",
    "portfolio": "/console/dashboards/portfolio/",
    "rolls": "/console/dashboards/rolls/",
    "cure (recovery by stage)": "/console/dashboards/cure/",
    "cure (recovery by product)": "/console/dashboards/cure/?by=product",
    "cure (recovery by region)": "/console/dashboards/cure/?by=region",
    "cure (recovery by arm)": "/console/dashboards/cure/?by=arm",
    "visits": "/console/dashboards/visits/",
    "complaints": "/console/dashboards/complaints/",
}


def add_arguments(parser) -> None:
    parser.add_argument("--repeat", type=int, default=5, help="timed renderings per page")


def render(path: str, user) -> tuple[int, int]:
    """One rendering: (status, bytes)."""
    request = RequestFactory().get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
    request.user = user
    match = resolve(request.path_info)
    response = match.func(request, *match.args, **match.kwargs)
    return response.status_code, len(response.content)


def run(options: dict, out) -> dict:
    from doorstep.ledger.models import Account
    from doorstep.strategy.models import Decision, NightlyRun

    # A superuser in memory only: has_perm answers yes without a query, and nothing is saved.
    user = get_user_model()(username="bench", is_superuser=True, is_active=True, is_staff=True)
    repeat = max(options.get("repeat") or 5, 1)
    nights = sorted(set(NightlyRun.objects.filter(status="done").values_list("as_of", flat=True)))
    figures: dict = {
        "database": connection.vendor,
        "accounts": Account.objects.count(),
        "decisions": Decision.objects.count(),
        "nights": len(nights),
        "first_night": nights[0] if nights else None,
        "last_night": nights[-1] if nights else None,
        "measured_on": timezone.localdate(),
        "repeat": repeat,
        "pages": {},
    }
    out(
        f"{figures['database']}: {figures['accounts']:,} accounts, {figures['decisions']:,} "
        f"decisions over {len(nights)} nights"
    )
    for name, path in PAGES.items():
        status, size = render(path, user)  # warm-up: imports, templates, the database's cache
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
        times = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                render(path, user)
                times.append((time.perf_counter() - started) * 1000)
        line = {
            "path": path,
            "ms_median": round(statistics.median(times), 1),
            "ms_max": round(max(times), 1),
            "queries": len(queries.captured_queries),
            "bytes": size,
        }
        figures["pages"][name] = line
        out(
            f"  {name:<28} median {line['ms_median']:>7.1f} ms   slowest {line['ms_max']:>7.1f} ms"
            f"   {line['queries']} statements"
        )
    return figures
