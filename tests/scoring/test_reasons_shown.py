"""The score's reasons where people read them: `doorstep explain`, the console's case view (staff
wording, with codes) and the borrower portal (plain words, no score). A model trained on the
public table (few rounds; skipped without the table) scores an account 120 days behind: its top
reason is days past due everywhere. Without an active model nothing of the score shows and
nothing breaks."""

import re
from datetime import date

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from doorstep.intake.importer import import_portfolio
from doorstep.scoring.domain import activate_model, register_model
from doorstep.strategy import domain, queries
from doorstep.web.domain import ensure_role_groups
from tests.arrangements.conftest import local
from tests.portal.conftest import sign_in
from tests.strategy.builder import Portfolio

AS_OF = date(2026, 11, 20)


@pytest.fixture
def behind(tmp_path, db):
    """A1: ¥5,000 unpaid since 120 days (nothing paid since), ¥500 due in 10 days; A2 current."""
    p = Portfolio(AS_OF)
    p.account("A1", overdue="5000.00", dpd=120, due_in=10)
    p.account("A2", due_in=10)
    import_portfolio(p.write(tmp_path / "p"))


@pytest.fixture
def scored(settings, tmp_path, small_public_model, behind):
    settings.DOORSTEP_SCORING = {**settings.DOORSTEP_SCORING, "model_dir": str(tmp_path / "m")}
    row = register_model(
        small_public_model,
        data="public-taiwan",
        data_sha256="",
        metrics={},
        by="t",
        at=local(AS_OF),
    )
    return activate_model(row.version, by="t", at=local(AS_OF))


@pytest.fixture
def clock():
    with time_machine.travel(local(AS_OF), tick=True):
        yield


def explained(account_id: str):
    strategy = domain.compiled(domain.active_version())
    return queries.explain_account(account_id, AS_OF, strategy, at=local(AS_OF))


def collector() -> Client:
    groups = ensure_role_groups()
    user = get_user_model().objects.create_user("collector", is_staff=True)
    user.groups.set([groups["phone_collector"]])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_top_reason_of_an_account_120_days_behind_is_days_past_due(scored):
    score = explained("A1").score

    assert score.model == scored.version
    assert score.risk_band == "high"
    assert score.reasons[0].code == "dpd"
    assert (score.reasons[0].en, score.reasons[0].zh) == ("days past due", "逾期天数")
    assert score.inputs["dpd"] == 120
    assert [r.weight for r in score.reasons] == sorted(
        (r.weight for r in score.reasons), reverse=True
    )


def test_a_current_account_has_no_score_and_no_reasons(scored):
    assert explained("A2").score is None


def test_explain_prints_model_score_band_and_reasons(scored, capsys):
    call_command("explain", "A1", "--as-of", "2026-11-20", "--lang", "en")

    out = capsys.readouterr().out
    score = explained("A1").score
    assert f"score: {score.risk_score} (band high), model {scored.version}" in out
    assert "score reasons:\n  1. [dpd] days past due  (+" in out


def test_explain_in_chinese_names_the_reason_in_chinese(scored, capsys):
    call_command("explain", "A1", "--as-of", "2026-11-20", "--lang", "zh")

    out = capsys.readouterr().out
    assert "风险等级 高" in out
    assert "评分原因:\n  1. [dpd] 逾期天数" in out


def test_the_console_shows_score_band_and_coded_reasons(scored, clock):
    page = collector().get("/console/accounts/A1/").content.decode()

    section = page[page.index('id="score"') :]
    assert 'data-band="high"' in section
    assert "High risk" in section
    assert scored.version in section
    first = re.search(r'<li data-reason="(\w+)"><code>\w+</code> ([^<]+)<', section)
    assert first.groups() == ("dpd", "days past due ")


def test_the_portal_says_the_main_reason_in_plain_words_without_the_score(scored, clock):
    borrower = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), "13800000000")

    page = borrower.get("/my/a/A1/").content.decode()

    reasons = page[page.index('id="score-reasons"') :]
    reasons = reasons[reasons.index(">") + 1 : reasons.index("</ul>")]
    assert re.findall(r"<li>([^<]+)</li>", reasons) == [
        "Your payments are 120 days late.",
        "You were also behind with payments in 3 of the 5 months before.",
        "No payment reached us in the last 30 days.",
    ]
    assert scored.version not in page
    for jargon in ("risk", "score", "model", "log-odds", "0."):
        assert jargon not in reasons.lower()


def test_the_portal_speaks_chinese_by_default(scored, clock):
    borrower = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), "13800000000")
    del borrower.defaults["HTTP_ACCEPT_LANGUAGE"]  # the product's default language from here on

    page = borrower.get("/my/a/A1/").content.decode()

    assert "您的还款已逾期 120 天。" in page


def test_without_an_active_model_nothing_of_the_score_shows(behind, clock, capsys):
    assert explained("A1").score is None

    console = collector().get("/console/accounts/A1/")
    assert console.status_code == 200
    assert "No collection score: no model is active." in console.content.decode()

    portal = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), "13800000000").get("/my/a/A1/")
    assert portal.status_code == 200
    assert 'id="score-reasons"' not in portal.content.decode()

    call_command("explain", "A1", "--as-of", "2026-11-20", "--lang", "en")
    assert "score" not in capsys.readouterr().out
