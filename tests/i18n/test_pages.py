"""Pages speak Simplified Chinese unless the browser asks for English (Accept-Language) or the
user chose English with the language switch (the django_language cookie)."""

from datetime import date, time

import pytest
from django.contrib.auth.models import Permission, User

from doorstep.visits import domain
from doorstep.visits.models import FieldAgent
from tests.visits.conftest import NOTICE_DAY, VISIT_DAY, local

ENGLISH = {"headers": {"Accept-Language": "en"}}


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_console_home_is_chinese_by_default(client):
    page = html(client.get("/"))

    assert '<html lang="zh-hans">' in page
    assert "贷后管理：为每个逾期账户确定合法合规的下一步" in page
    assert "<th>逾期阶段</th><th>账户数</th><th>逾期金额</th><th>未还余额</th>" in page
    assert "暂无账户：请运行 doorstep import DIR 或 doorstep demo。" in page
    assert "Where to go" not in page


@pytest.mark.django_db
def test_a_chinese_browser_gets_chinese(client):
    page = html(client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}))

    assert '<html lang="zh-hans">' in page
    assert "快速入口" in page


@pytest.mark.django_db
def test_the_console_home_in_english_by_accept_language(client):
    page = html(client.get("/", **ENGLISH))

    assert '<html lang="en">' in page
    assert "<th>Bucket</th><th>Accounts</th><th>Overdue</th><th>Outstanding</th>" in page
    assert "Where to go" in page
    assert "快速入口" not in page


@pytest.mark.django_db
def test_the_language_cookie_wins_over_the_browser(client):
    client.cookies["django_language"] = "en"

    page = html(client.get("/", headers={"Accept-Language": "zh-CN"}))

    assert '<html lang="en">' in page
    assert "Where to go" in page


@pytest.mark.django_db
def test_the_language_switch_sets_the_cookie_and_returns_to_the_page(client):
    page = html(client.get("/verify/"))
    # The switch on a Chinese page offers English, posting to Django's set_language view.
    assert '<form class="language" action="/i18n/setlang/" method="post"' in page
    assert 'name="next" value="/verify/"' in page
    assert '<button type="submit" name="language" value="en" lang="en">English</button>' in page

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/verify/"})

    assert response.status_code == 302
    assert response["Location"] == "/verify/"
    assert client.cookies["django_language"].value == "en"
    english = html(client.get("/verify/"))
    assert "<h1>Check a visitor's credential</h1>" in english
    assert 'value="zh-hans" lang="zh-hans">简体中文</button>' in english

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/verify/"})
    assert "<h1>核实上门人员身份</h1>" in html(client.get("/verify/"))


@pytest.mark.django_db
def test_the_credential_check_in_both_languages(client):
    FieldAgent.objects.create(
        credential_no="FA-0009", name="赵敏", organisation="Doorstep 外访部",
        valid_from=date(2000, 1, 1), valid_until=date(2999, 12, 31),
    )  # fmt: skip

    chinese = html(client.get("/verify/?no=FA-0009"))
    english = html(client.get("/verify/?no=FA-0009", **ENGLISH))

    assert "<dt>工作证编号</dt><dd>FA-0009</dd>" in chinese
    assert '<span class="ok">今日有效</span>' in chinese
    assert "<dt>Credential</dt><dd>FA-0009</dd>" in english
    assert '<span class="ok">valid today</span>' in english


@pytest.mark.django_db
def test_an_unknown_credential_warns_in_chinese(client):
    page = html(client.get("/verify/?no=FA-9999"))

    assert "查无此工作证。请勿让此人进门，并致电我司客服或报警。" in page


@pytest.mark.django_db
def test_the_notice_page_and_its_state_label_in_both_languages(client, field):
    [visit] = domain.propose_visits(
        [domain.Proposal("V1", None, {"rules": ["home_visit.dpd_90"], "en": "e", "zh": "z"},
                         100, 500000)],
        as_of=NOTICE_DAY, by="nightly", at=local(NOTICE_DAY, 2),
    )  # fmt: skip
    domain.approve_visits([visit.pk], by="sup", at=local(NOTICE_DAY, 9))
    domain.send_notice(visit.pk, visit_date=VISIT_DAY, window=(time(9), time(11)),
                       team=field["team"], order=1, eta=time(10), by="sup",
                       at=local(NOTICE_DAY, 10))  # fmt: skip
    url = f"/v/{domain.respond_token(visit.pk)}/"

    chinese = html(client.get(url))
    english = html(client.get(url, **ENGLISH))

    assert "<h1>您的上门核实通知</h1>" in chinese
    assert '<dd id="status">已发送通知</dd>' in chinese
    assert "如您在拜访前还清逾期金额，本次拜访即自动取消。" in chinese
    assert "催收" not in chinese  # the borrower's pages speak of visits and repayment
    assert "<h1>Your visit notice</h1>" in english
    assert '<dd id="status">Notice sent</dd>' in english


@pytest.mark.django_db
def test_the_field_agents_day_in_both_languages(client):
    user = User.objects.create_user("agent.zhao", password="x")
    FieldAgent.objects.create(
        credential_no="FA-0009", name="赵敏", organisation="Doorstep 外访部", user=user,
        valid_from=date(2000, 1, 1), valid_until=date(2999, 12, 31),
    )  # fmt: skip
    client.force_login(user)

    chinese = html(client.get("/field/"))
    english = html(client.get("/field/", **ENGLISH))

    assert "<h1>今日外访</h1>" in chinese
    assert "<p>今日没有外访任务。</p>" in chinese
    assert "<h2>我的工作证</h2>" in chinese
    assert "<h1>Today's visits</h1>" in english
    assert "<p>No visits today.</p>" in english


@pytest.mark.django_db
def test_the_supervisors_review_page_in_chinese(client):
    user = User.objects.create_user("sup", password="x")
    user.user_permissions.add(Permission.objects.get(codename="review_visit"))
    client.force_login(user)

    page = html(client.get("/visits/review/"))

    assert "<h1>外访申请</h1>" in page
    assert "暂无待审批的外访申请。" in page
    assert '<button type="submit" name="action" value="approve">批准所选</button>' in page
