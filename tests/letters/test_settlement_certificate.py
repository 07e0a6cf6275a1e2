"""The settlement certificate (结清证明), read back from the PDF: the facts, the credit-report
guidance, how to check it; and what it refuses."""

import re
from dataclasses import replace
from datetime import date
from html import unescape
from urllib.parse import unquote

import pytest

from doorstep.letters.documents import LetterInvalid
from tests.letters.printing import CJK_TEXT
from tests.letters.samples import FINGERPRINT, certificate_zh


def test_the_chinese_certificate_reads_back_as_text(zh_certificate):
    for expected in (
        "星辰消费金融有限公司",
        "结清证明",
        "编号：SC-A0001-20261123",
        "日期：2026年11月23日",
        "兹证明：张伟（身份证号 3101**********1234）于2025年12月10日在星辰消费金融有限公司办理的消费分期",
        "账户号 A0001，借款本金 ¥9,000.00",
        "截至2026年11月20日，该账户项下的全部应还款项均已结清，账户无剩余欠款",
        "对该账户不再享有任何债权",
        "上述结清含星辰消费金融有限公司同意减免的款项 ¥135.75，该部分无需偿还。",
        "特此证明。",
        # the credit report: reported in the next regular report, free checks, objections
        "关于您的个人信用报告（征信）",
        "向中国人民银行征信中心报送该账户的结清状态",
        "通常在结清后一个月左右",
        "每年有两次免费机会",
        "www.pbccrc.org.cn",
        "柜台或自助查询机",
        "提出异议",
        "自收到之日起 20 日内核查处理",
        # how to check it
        "https://portal.xingchen.example.cn/certificates/SC-A0001-20261123",
        "证明指纹（SHA-256）",
        FINGERPRINT,
        "400-820-1234",
    ):
        assert zh_certificate.shows(expected), expected
    for row in (
        # the figures: principal, total paid, waived, nothing left
        ("开户日期", "2025年12月10日", "借款本金", "¥9,000.00"),
        ("结清日期", "2026年11月20日", "累计还款", "¥10,018.25"),
        ("剩余欠款", "¥0.00", "减免金额", "¥135.75"),
    ):
        assert zh_certificate.shows_row(*row), row


def test_the_english_certificate_reads_back_as_text(en_certificate):
    for expected in (
        "Settlement certificate",
        "Ref.: SC-A0002-20261123",
        "This is to certify that as of 21 November 2026, Daniel Becker (national ID E12*****89) "
        "has repaid all amounts owed under the instalment loan opened with Xingchen Consumer "
        "Finance Co., Ltd. on 10 December 2025 (account A0002, principal ¥9,000.00).",
        "No balance remains on the account",
        "has no further claim under it",
        "Credit Reference Center of the People's Bank of China",
        "usually within about a month of settlement",
        "free of charge twice a year",
        "raise an objection",
        "within 20 days",
        "https://portal.xingchen.example.cn/certificates/SC-A0002-20261123",
        en_certificate.document.fingerprint,
    ):
        assert en_certificate.shows(expected), expected
    for row in (
        ("Opened on", "10 December 2025", "Principal lent", "¥9,000.00"),
        ("Settled on", "21 November 2026", "Total paid", "¥9,600.00"),
        ("Balance owed", "¥0.00", "Waived", "¥0.00"),
    ):
        assert en_certificate.shows_row(*row), row
    # nothing was waived: no sentence about a waiver
    assert not en_certificate.shows("agreed to waive")
    assert not CJK_TEXT.search(en_certificate.text)


@pytest.mark.parametrize("which", ["zh_certificate", "en_certificate"])
def test_a_certificate_fits_on_one_page(which, request):
    assert len(request.getfixturevalue(which).pages) == 1


def test_the_certificate_carries_a_qr_code_for_its_verify_page(zh_certificate):
    qr = re.findall(r'<img src="(data:image/svg\+xml[^"]+)" alt="([^"]+)">', zh_certificate.html)
    assert len(qr) == 1
    uri, alt = qr[0]
    assert alt == zh_certificate.document.verify_url
    assert unquote(unescape(uri)).split(",", 1)[1].startswith("<svg")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"settled_on": date(2025, 12, 9)}, "settled_on must not be before opened_on"),
        ({"issued_on": date(2026, 11, 19)}, "issued_on must not be before settled_on"),
        ({"principal_cents": 0}, "principal_cents must be above zero"),
        ({"total_paid_cents": -1}, "total_paid_cents must be at least zero"),
        ({"total_waived_cents": -1}, "total_waived_cents must be at least zero"),
        ({"total_paid_cents": 10018.25}, "total_paid_cents must be integer cents"),
        ({"total_waived_cents": True}, "total_waived_cents must be integer cents"),
        ({"borrower_name": ""}, "borrower_name must not be empty"),
        ({"lender_name": " "}, "lender_name must not be empty"),
        ({"account_id": ""}, "account_id must not be empty"),
        ({"reference": ""}, "reference must not be empty"),
        ({"masked_national_id": ""}, "masked_national_id must not be empty"),
        ({"masked_national_id": "310101199001011234"}, "masked_national_id must be masked"),
        ({"fingerprint": FINGERPRINT[:16]}, "fingerprint must be 64 hex characters"),
        ({"fingerprint": "g" * 64}, "fingerprint must be 64 hex characters"),
        ({"verify_url": "javascript:alert(1)"}, "verify_url must be an http(s) address"),
        ({"language": "fr"}, "language must be one of zh, en"),
    ],
)
def test_a_certificate_that_contradicts_itself_is_refused(change, message):
    with pytest.raises(LetterInvalid, match=re.escape(message)) as refused:
        replace(certificate_zh(), **change)
    assert refused.value.code == "letter.invalid"


def test_settled_and_issued_on_the_same_day_as_opened_is_allowed():
    day = date(2025, 12, 10)
    certificate = replace(certificate_zh(), opened_on=day, settled_on=day, issued_on=day)
    assert certificate.settled_on == day
