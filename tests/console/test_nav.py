"""The console's navigation: each role sees the entries its permissions open, and the entries
are worked out only for pages that show them (not the portal's or the field agent's)."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from doorstep.web.domain import ensure_demo_logins


def _client(db, username: str) -> Client:
    ensure_demo_logins(lambda role: f"pw-{role}")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _permission_reads(queries) -> int:
    return sum('FROM "auth_permission"' in q["sql"] for q in queries)


def test_a_console_page_shows_the_entries_of_the_users_role(db):
    collector = _client(db, "phone_collector")
    page = collector.get("/console/calls/").content.decode()
    nav = page[page.index("<nav>") : page.index("</nav>")]
    assert '<a href="/console/calls/" class="active">Call queue</a>' in nav
    assert "/console/strategy/" not in nav  # a strategy manager's entry


def test_a_page_without_the_console_navigation_reads_no_permissions(db):
    collector = _client(db, "phone_collector")
    with CaptureQueriesContext(connection) as queries:
        page = collector.get("/verify/")
    assert page.status_code == 200
    assert _permission_reads(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        collector.get("/console/calls/")
    assert _permission_reads(queries) == 2  # the user's own and their groups'
