"""The strategy editor: every error of a document at its line, and nothing written; the exact
from→to matrix of a dry run; publishing a version with author, note, diff and audit entry; the
champion/challenger shares; who may see and who may publish."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation
from django.utils.html import escape

from doorstep.audit.models import AuditEntry
from doorstep.console.strategy_editor import (
    SharesInvalid,
    dry_run,
    locate_problems,
    with_shares,
)
from doorstep.intake.importer import import_portfolio
from doorstep.strategy import domain
from doorstep.strategy.engine.document import StrategyInvalid, load_strategy
from doorstep.strategy.models import Decision, StrategyVersion
from doorstep.web.domain import ensure_role_groups
from tests.strategy.builder import Portfolio
from tests.strategy.edits import VISIT_REASONS_AT_90, visit_from

AS_OF = date(2026, 11, 20)
DEFAULT = domain.DEFAULT_STRATEGY.read_text()
VISIT_AT_90 = '"dpd >= 90 AND overdue_amount >= 3000"'
VISIT_AT_40 = '"dpd >= 40 AND overdue_amount >= 3000"'
REASONS_AT_40 = {r: r.replace("90", "40") for r in VISIT_REASONS_AT_90}
TWO_ARMS = DEFAULT.replace(
    "arms:\n  - id: champion\n    share: 100\n",
    "arms:\n  - id: champion\n    share: 90\n  - id: visit_at_60  # the challenger\n    share: 10\n",
)


@pytest.fixture(autouse=True)
def english():
    """The errors this module calls for directly are asserted in English, as its pages are."""
    with translation.override("en"):
        yield


def errors_of(text: str) -> list[str]:
    with pytest.raises(StrategyInvalid) as invalid:
        load_strategy(text)
    return invalid.value.errors


@pytest.fixture
def steditor_as(db):
    """steditor_as(role) is a client signed in as a staff user of that role (English pages)."""
    groups = ensure_role_groups()

    def client_for(role: str) -> Client:
        user = get_user_model().objects.create_user(role, is_staff=True)
        user.groups.set([groups[role]])
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return client_for


def steditor_portfolio(tmp_path):
    """Four accounts decided on AS_OF: two in phone (40 and 89 days overdue), one reminder, one
    pre-due (as tests/strategy/test_nightly.py's small portfolio)."""
    p = Portfolio(AS_OF)
    p.account("PHONE", overdue="5000.00", dpd=40)
    p.account("VISIT", overdue="5000.00", dpd=89)
    p.account("REMIND", overdue="600.00", dpd=2)
    p.account("SOON", due_in=2)
    import_portfolio(p.write(tmp_path / "p"))
    domain.run_nightly(AS_OF, by="test")


# --- errors at their lines --------------------------------------------------------------------


def test_a_condition_error_points_at_the_document_line_and_column():
    text = DEFAULT.replace('"dpd >= 31"', '"dpd >= salary"')

    [problem] = locate_problems(text, errors_of(text))

    assert problem.message == "rule phone.dpd_31 (line 1, column 8): unknown feature 'salary'"
    assert (problem.lines, problem.column, problem.where) == ((39,), 23, "line 39, column 23")
    assert text.splitlines()[38][22:28] == "salary"
    assert [(line.number, line.marked) for line in problem.excerpt] == [
        (37, False), (38, False), (39, True), (40, False), (41, False),
    ]  # fmt: skip


def test_a_condition_written_as_a_block_maps_its_own_lines_onto_the_document():
    text = DEFAULT.replace(
        'when: "dpd >= 31"', "when: |\n          dpd >= 31\n          AND foo > 1"
    )

    [problem] = locate_problems(text, errors_of(text))

    assert problem.message == "rule phone.dpd_31 (line 2, column 5): unknown feature 'foo'"
    assert (problem.lines, problem.column) == ((41,), 15)
    assert text.splitlines()[40][14:17] == "foo"


def test_structure_yaml_and_whole_document_errors_point_at_their_lines():
    shares = DEFAULT.replace("share: 100", "share: 90")
    [arms] = locate_problems(shares, errors_of(shares))
    assert (arms.message, arms.lines) == (
        "document: Value error, arm shares must add up to 100",
        (6,),
    )
    unknown_key = DEFAULT.replace("cadence: daily", "cadence: weekly")
    [cadence] = locate_problems(unknown_key, errors_of(unknown_key))
    assert cadence.lines == (49,)
    assert cadence.message.startswith("stages.2.actions.0.cadence: String should match")
    twice = DEFAULT.replace("id: phone.high_risk", "id: phone.dpd_31")
    [duplicate] = locate_problems(twice, errors_of(twice))
    assert (duplicate.lines, duplicate.where) == ((38, 43), "lines 38, 43")
    not_yaml = DEFAULT.replace("name: default", "name: [default")
    [parse] = locate_problems(not_yaml, errors_of(not_yaml))
    assert (parse.lines, parse.column) == ((4, 5), 12)


def test_check_shows_every_error_at_its_line_and_writes_nothing(steditor_as):
    manager = steditor_as("strategy_manager")
    manager.get("/console/strategy/")  # the shipped default becomes version 1
    versions, entries = StrategyVersion.objects.count(), AuditEntry.objects.count()
    text = DEFAULT.replace('"dpd >= 31"', '"dpd >= salary"').replace(
        "overdue_amount >= 30000 AND dpd >= 31", "overdue_amount >= 30000 AND LENGTH(x) > 1"
    )

    page = manager.post("/console/strategy/edit/check/", {"document": text}).content.decode()

    assert "2 errors: nothing was saved" in page
    assert "rule phone.dpd_31 (line 1, column 8): unknown feature &#x27;salary&#x27;" in page
    assert 'data-line="39"' in page
    assert ">line 39, column 23</a>" in page
    assert "rule home_visit.large_debt (line 1, column 29): function LENGTH() is not" in page
    assert ">line 64, column 44</a>" in page
    assert text.splitlines()[63][43:49] == "LENGTH"
    assert page.count('class="marked"') == 2
    assert (StrategyVersion.objects.count(), AuditEntry.objects.count()) == (versions, entries)
    assert (versions, entries) == (1, 1)


def test_check_of_a_valid_edit_shows_the_diff_publishing_would_record(steditor_as):
    manager = steditor_as("strategy_manager")
    text = visit_from(DEFAULT, 40)

    page = manager.post("/console/strategy/edit/check/", {"document": text}).content.decode()

    assert 'id="valid"' in page
    assert f'<span class="del">-        when: {escape(VISIT_AT_90)}</span>' in page
    assert f'<span class="add">+        when: {escape(VISIT_AT_40)}</span>' in page
    assert StrategyVersion.objects.count() == 1


def test_a_document_under_another_name_is_refused_at_its_name_line(steditor_as):
    manager = steditor_as("strategy_manager")

    page = manager.post(
        "/console/strategy/edit/check/",
        {"document": DEFAULT.replace("name: default", "name: other")},
    ).content.decode()

    assert "1 error: nothing was saved" in page
    assert ">line 4</a>" in page
    assert "a document named other would not become active" in page


# --- impact -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_dry_run_gives_the_exact_matrix_the_accounts_that_move_and_the_arms(tmp_path):
    steditor_portfolio(tmp_path)
    old = domain.compiled(domain.active_version())
    new = load_strategy(visit_from(TWO_ARMS, 40))

    impact = dry_run(AS_OF, old, new)

    expected = {("phone", "home_visit"): 2, ("reminder", "reminder"): 1, ("pre_due", "pre_due"): 1}
    assert impact.matrix == expected
    assert domain.strategy_impact(AS_OF, old, new) == expected
    assert (impact.total, impact.changed) == (4, 2)
    assert [(m.account_id, m.before, m.after, m.dpd, m.overdue_cents) for m in impact.moved] == [
        ("PHONE", "phone", "home_visit", 40, 500000),
        ("VISIT", "phone", "home_visit", 89, 500000),
    ]
    assert [m.triggers for m in impact.moved] == ["phone.dpd_31,home_visit.dpd_90"] * 2
    assert impact.arms_before == {"champion": 4}
    assert sum(impact.arms_after.values()) == 4
    table = impact.table()
    assert [s for s, _ in table["stages"]] == ["pre_due", "reminder", "phone", "home_visit"]
    assert [row["total"] for row in table["rows"]] == [1, 1, 2, 0]
    assert table["columns"] == [1, 1, 0, 2]


@pytest.mark.django_db(transaction=True)
def test_impact_renders_the_matrix_on_the_latest_decision_date_and_writes_nothing(
    tmp_path, steditor_as
):
    steditor_portfolio(tmp_path)
    manager = steditor_as("strategy_manager")
    decisions = list(Decision.objects.values_list("account_id", "stage"))
    editor = manager.get("/console/strategy/edit/").content.decode()
    assert 'name="as_of" value="2026-11-20"' in editor

    page = manager.post(
        "/console/strategy/edit/impact/",
        {"document": visit_from(DEFAULT, 40), "as_of": "2026-11-20"},
    ).content.decode()

    assert "Impact on 2026-11-20" in page
    assert "2 of 4 accounts change stage." in page
    assert '<tr data-stage="phone"><th scope="row" title="phone">Phone</th>' in page
    assert '<td data-to="home_visit" class="moved">2</td>' in page
    assert (
        '<td>PHONE</td><td title="phone">Phone</td><td title="home_visit">Home visit</td>' in page
    )
    assert "<td>phone.dpd_31, home_visit.dpd_90</td>" in page
    assert list(Decision.objects.values_list("account_id", "stage")) == decisions
    assert StrategyVersion.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_impact_of_a_broken_document_shows_its_errors_instead(tmp_path, steditor_as):
    steditor_portfolio(tmp_path)
    manager = steditor_as("strategy_manager")

    page = manager.post(
        "/console/strategy/edit/impact/",
        {"document": DEFAULT.replace('"dpd >= 31"', '"dpd >= salary"'), "as_of": "2026-11-20"},
    ).content.decode()

    assert "1 error: nothing was saved" in page
    assert 'id="matrix"' not in page


# --- publish ----------------------------------------------------------------------------------


def test_publish_creates_the_next_version_with_author_note_diff_and_audit_entry(steditor_as):
    manager = steditor_as("strategy_manager")
    manager.get("/console/strategy/")
    text = visit_from(DEFAULT, 40)

    response = manager.post(
        "/console/strategy/edit/publish/",
        {"document": text, "note": "visit from 40 days", "base": "1"},
    )

    assert (response.status_code, response["Location"]) == (302, "/console/strategy/")
    version = StrategyVersion.objects.get(version=2)
    assert (version.label, version.author, version.note) == (
        "default@2", "strategy_manager", "visit from 40 days",
    )  # fmt: skip
    assert version.document == text
    entry = AuditEntry.objects.filter(code="strategy.published").latest("seq")
    assert (entry.actor, entry.obj_id) == ("strategy_manager", str(version.pk))
    assert (entry.payload["version"], entry.payload["note"]) == (2, "visit from 40 days")
    index = manager.get("/console/strategy/").content.decode()
    assert "Published default@2." in index
    assert "Strategy default, version 2" in index
    assert '<dd id="active-note">visit from 40 days</dd>' in index
    assert "Changes from version 1" in index
    assert f'<span class="add">+        when: {escape(VISIT_AT_40)}</span>' in index
    assert index.count("/console/strategy/versions/default/") == 4  # active, v2, v2's diff, v1
    detail = manager.get("/console/strategy/versions/default/2/").content.decode()
    assert "Changes from default@1" in detail


def test_a_document_posted_with_the_browsers_cr_lf_line_ends_is_stored_with_lf(steditor_as):
    manager = steditor_as("strategy_manager")
    manager.get("/console/strategy/")
    text = visit_from(DEFAULT, 40)

    manager.post(
        "/console/strategy/edit/publish/",
        {"document": text.replace("\n", "\r\n"), "note": "from a browser", "base": "1"},
    )

    version = StrategyVersion.objects.get(version=2)
    assert version.document == text
    assert [line for line in version.diff.splitlines() if line[:1] in "+-" and "when:" in line] == [
        f"-        when: {VISIT_AT_90}",
        f"+        when: {VISIT_AT_40}",
    ]


@pytest.mark.parametrize(
    ("change", "note", "base", "shown"),
    [
        ({'"dpd >= 31"': '"dpd >= salary"'}, "typo", "1", "1 error: nothing was saved"),
        ({VISIT_AT_90: VISIT_AT_40, **REASONS_AT_40}, "  ", "1", "A note is required"),
        (
            {VISIT_AT_90: VISIT_AT_40, **REASONS_AT_40},
            "late",
            "0",
            "was published by system after you opened this page",
        ),
    ],
)
def test_publish_refuses_errors_a_missing_note_and_a_stale_base(
    steditor_as, change, note, base, shown
):
    manager = steditor_as("strategy_manager")
    manager.get("/console/strategy/")
    text = DEFAULT
    for old, new in change.items():
        text = text.replace(old, new)

    response = manager.post(
        "/console/strategy/edit/publish/", {"document": text, "note": note, "base": base}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert shown in page
    assert "salary" in page or "dpd &gt;= 40" in page  # the text is kept
    assert StrategyVersion.objects.count() == 1
    assert AuditEntry.objects.filter(code="strategy.published").count() == 1


def test_publishing_the_active_text_again_publishes_nothing(steditor_as):
    manager = steditor_as("strategy_manager")
    manager.get("/console/strategy/")

    manager.post("/console/strategy/edit/publish/", {"document": DEFAULT, "note": "x", "base": "1"})

    assert StrategyVersion.objects.count() == 1
    assert "Nothing changed" in manager.get("/console/strategy/").content.decode()


# --- shares -----------------------------------------------------------------------------------


def test_new_shares_rewrite_only_the_share_numbers():
    text = with_shares(TWO_ARMS, {"champion": 80, "visit_at_60": 20})

    assert text == TWO_ARMS.replace("share: 90", "share: 80").replace("share: 10", "share: 20")
    assert "# the challenger" in text
    with pytest.raises(SharesInvalid) as invalid:
        with_shares(TWO_ARMS, {"champion": 80, "visit_at_60": 10, "nobody": 10})
    assert invalid.value.errors == ["there is no arm nobody"]
    with pytest.raises(SharesInvalid) as invalid:
        with_shares(TWO_ARMS, {"champion": 120})
    assert invalid.value.errors == [
        "arm visit_at_60 needs a share",
        "the share of champion must be 0–100",
        "the shares add up to 120, not 100",
    ]


def test_the_shares_form_refuses_a_sum_other_than_100(steditor_as):
    domain.publish_strategy(TWO_ARMS, by="li", note="a challenger")
    manager = steditor_as("strategy_manager")

    response = manager.post(
        "/console/strategy/shares/",
        {"share-champion": "80", "share-visit_at_60": "10", "note": "more", "base": "1"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "the shares add up to 90, not 100" in page
    assert 'name="share-champion" value="80"' in page  # what was entered, to correct
    assert StrategyVersion.objects.count() == 1


def test_the_shares_form_publishes_a_version_through_the_same_path(steditor_as):
    domain.publish_strategy(TWO_ARMS, by="li", note="a challenger")
    manager = steditor_as("strategy_manager")

    response = manager.post(
        "/console/strategy/shares/",
        {"share-champion": "75", "share-visit_at_60": "25", "note": "more visits", "base": "1"},
    )

    assert response["Location"] == "/console/strategy/"
    version = StrategyVersion.objects.get(version=2)
    assert (version.author, version.note) == ("strategy_manager", "more visits")
    changed = [line for line in version.diff.splitlines() if line[:1] in "+-"]
    assert changed == [
        "--- default@1", "+++ default@2",
        "-    share: 90", "+    share: 75", "-    share: 10", "+    share: 25",
    ]  # fmt: skip
    assert [(a.id, a.share) for a in load_strategy(version.document).document.arms] == [
        ("champion", 75),
        ("visit_at_60", 25),
    ]
    assert AuditEntry.objects.filter(code="strategy.published", actor="strategy_manager").exists()


# --- who may do what --------------------------------------------------------------------------


def test_roles_without_the_view_permission_are_turned_away(steditor_as, client):
    agent = steditor_as("field_agent")

    assert agent.get("/console/strategy/").status_code == 403
    assert agent.get("/console/strategy/versions/default/1/").status_code == 403
    anonymous = client.get("/console/strategy/")
    assert (anonymous.status_code, anonymous["Location"]) == (
        302, "/admin/login/?next=/console/strategy/",
    )  # fmt: skip


@pytest.mark.parametrize("role", ["compliance_officer", "collections_supervisor"])
def test_readers_see_the_strategy_but_no_controls_and_are_refused_on_post(steditor_as, role):
    domain.publish_strategy(TWO_ARMS, by="li", note="a challenger")
    reader = steditor_as(role)

    page = reader.get("/console/strategy/").content.decode()

    assert "Strategy default, version 1" in page
    assert "visit_at_60" in page
    assert 'id="edit"' not in page
    assert "/console/strategy/shares/" not in page
    assert 'name="share-champion"' not in page
    assert reader.get("/console/strategy/edit/").status_code == 403
    text = visit_from(TWO_ARMS, 40)
    for url, data in [
        ("/console/strategy/edit/check/", {"document": text}),
        ("/console/strategy/edit/impact/", {"document": text}),
        ("/console/strategy/edit/publish/", {"document": text, "note": "x", "base": "1"}),
        ("/console/strategy/shares/", {"share-champion": "50", "share-visit_at_60": "50",
                                       "note": "x", "base": "1"}),
    ]:  # fmt: skip
        assert reader.post(url, data).status_code == 403
    assert StrategyVersion.objects.count() == 1


def test_the_index_reads_a_fixed_number_of_queries_whatever_the_history(
    steditor_as, django_assert_num_queries
):
    manager = steditor_as("strategy_manager")
    manager.get("/console/strategy/")
    with django_assert_num_queries(6):
        manager.get("/console/strategy/")
    for n in (2, 3):
        domain.publish_strategy(visit_from(DEFAULT, n), by="li", note=f"v{n}")
    with django_assert_num_queries(6):
        page = manager.get("/console/strategy/").content.decode()
    assert page.count("<td>li</td>") == 2
