"""The borrower's account record (账户往来记录), read back from the PDF: the account's figures,
every event in order, the table's header on every page, page x of y; and what it refuses."""

import re
from dataclasses import replace
from datetime import datetime

import pytest

from doorstep.letters.documents import RECORD_KINDS, LetterInvalid, RecordEvent
from doorstep.letters.render import render_html
from doorstep.money import yuan_display
from tests.letters.printing import CJK_TEXT, cells
from tests.letters.samples import EVENTS_ZH, LONG_RECORD_EVENTS, SHANGHAI, record_en, record_zh

HEADER_EN = ("Date and time", "Type", "Item", "Details", "Amount")


def test_the_chinese_record_reads_back_as_text(zh_record):
    for expected in (
        "星辰消费金融有限公司",
        "账户往来记录",
        "编号：BR-A0001-20260701",
        "生成时间：2026-07-01 09:30 (UTC+08:00)",
        "本记录列出我们在您的消费分期账户（账户号 A0001）上记录的全部往来",
        "时间为您当地时间，按先后顺序排列，共 14 条。",
        "三、如有疑问",
        "请拨打客服电话 400-820-1234，或登录您下载本记录的借款人服务平台提交",
        "第 1 页 / 共 1 页",
    ):
        assert zh_record.shows(expected), expected
    for row in (
        # the account's facts and figures, two to a line
        ("借款人", "张伟", "手机（脱敏）", "138****5678"),
        ("开户日期", "2025年12月10日", "借款本金", "¥9,000.00"),
        ("当前阶段", "还款安排执行中", "逾期天数", "112 天"),
        ("逾期金额", "¥5,025.75", "未还余额", "¥6,625.75"),
        # the events: time, kind (the texts' label), title, detail, amount
        ("时间", "类型", "事项", "说明", "金额"),
        ("2026-01-10 09:15", "还款", "第1期还款", "银行卡自动扣款", "¥1,600.00"),
        ("2026-03-11 10:00", "消息", "短信提醒", "第3期已到期，提醒还款"),
        ("2026-03-14 00:05", "费用", "第3期滞纳金", "¥30.00"),
        ("2026-03-21 11:00", "还款承诺", "还款承诺", "承诺4月10日前还款", "¥1,600.00"),
        ("2026-05-22 16:40", "暂停", "暂停联系", "投诉处理期间暂停外呼"),
        ("2026-06-18 09:00", "还款安排", "分期还款安排", "剩余欠款分6期", "¥6,625.75"),
        ("2026-06-25 08:30", "减免", "罚息减免", "困难减免，已批准", "¥135.75"),
    ):
        assert zh_record.shows_row(*row), row


def test_the_english_record_reads_back_as_text(en_record):
    for expected in (
        "Your account record",
        "Ref.: BR-A0002-20260701",
        "Times are your local time, oldest first; 5 entries.",
        "3. Questions and complaints",
        "call us on +86 400-820-1234 or write to us through the online portal",
        "Page 1 of 1",
    ):
        assert en_record.shows(expected), expected
    for row in (
        ("Borrower", "Daniel Becker", "Phone (masked)", "139****0042"),
        ("Current stage", "Repayment arrangement", "Days overdue", "112"),
        ("Overdue amount", "¥5,025.75", "Outstanding balance", "¥6,625.75"),
        HEADER_EN,
        ("2025-12-10 10:00", "Charge", "Loan paid out", "Principal to your bank card", "¥9,000.00"),
        ("2026-03-11 10:00", "Message", "SMS reminder", "Instalment 3 is due"),
        ("2026-06-25 08:30", "Waiver", "Penalty waived", "¥135.75"),
    ):
        assert en_record.shows_row(*row), row
    assert not CJK_TEXT.search(en_record.text)


def test_every_event_is_a_row_in_order_with_its_amount(zh_record):
    rows = cells(zh_record.html, "events")
    rows = [row for row in rows if row]  # the header row has th cells only
    assert [row[2] for row in rows] == [event.title for event in EVENTS_ZH]
    for row, event in zip(rows, EVENTS_ZH, strict=True):
        assert row[0] == f"{event.at:%Y-%m-%d %H:%M}"
        expected = "" if event.amount_cents is None else yuan_display(event.amount_cents)
        assert row[4] == expected


def test_a_long_record_runs_over_pages_with_the_header_on_each(long_record):
    pages = long_record.pages
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert long_record.shows_row(*HEADER_EN, page=number), f"no table header on page {number}"
        assert f"Page{number}of{len(pages)}" in "".join(page.split())
    assert long_record.shows(f"{LONG_RECORD_EVENTS} entries.")
    for n in (1, LONG_RECORD_EVENTS // 2, LONG_RECORD_EVENTS):
        assert re.search(rf"\bEntry {n}\b", long_record.text), n
    # the closing note follows the last event
    assert "3. Questions and complaints" in pages[-1]


def test_a_record_without_events_says_so():
    html = render_html(replace(record_zh(), events=()))
    assert "该账户暂无往来记录。" in html
    assert 'class="grid events"' not in html


def test_text_a_caller_supplies_is_escaped():
    event = RecordEvent(
        datetime(2026, 1, 1, 9, tzinfo=SHANGHAI), "message", "<b>短信</b>", "<i>x</i>"
    )
    html = render_html(replace(record_zh(), events=(event,)))
    assert "&lt;b&gt;短信&lt;/b&gt;" in html
    assert "<b>短信</b>" not in html


def test_every_kind_has_a_label_in_each_language():
    for language in ("zh", "en"):
        html = render_html(
            replace(
                record_en(),
                language=language,
                events=tuple(
                    RecordEvent(datetime(2026, 1, 1, 9, tzinfo=SHANGHAI), kind, kind, "")
                    for kind in RECORD_KINDS
                ),
            )
        )
        labels = [row[1] for row in cells(html, "events") if row]
        assert len(labels) == len(set(labels)) == len(RECORD_KINDS), labels
        assert all(label and label not in RECORD_KINDS for label in labels), labels


def _at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=SHANGHAI)


def test_events_out_of_order_are_refused():
    later, earlier = RecordEvent(_at(2), "call", "b", ""), RecordEvent(_at(1), "call", "a", "")
    with pytest.raises(LetterInvalid, match=r"events must be in time order.*events\[1\]"):
        replace(record_zh(), events=(later, earlier))


def test_events_at_the_same_moment_are_in_order():
    first, second = RecordEvent(_at(1), "call", "a", ""), RecordEvent(_at(1), "message", "b", "")
    assert replace(record_zh(), events=[first, second]).events == (first, second)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "threat"}, "kind must be one of payment, charge"),
        ({"at": datetime(2026, 1, 1, 9)}, "at must carry its time zone"),
        ({"title": ""}, "title must not be empty"),
        ({"amount_cents": 1.5}, "amount_cents must be integer cents or None"),
    ],
)
def test_an_event_that_contradicts_itself_is_refused(change, message):
    with pytest.raises(LetterInvalid, match=re.escape(message)):
        replace(EVENTS_ZH[0], **change)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"generated_at": datetime(2026, 7, 1, 9, 30)}, "generated_at must carry its time zone"),
        ({"masked_phone": "13812345678"}, "masked_phone must be masked"),
        ({"borrower_name": ""}, "borrower_name must not be empty"),
        ({"stage_label": ""}, "stage_label must not be empty"),
        ({"overdue_cents": -1}, "overdue_cents must be at least zero"),
        ({"overdue_cents": 700000}, "overdue_cents must not exceed outstanding_cents"),
        ({"principal_cents": 0}, "principal_cents must be above zero"),
        ({"dpd": -1}, "dpd must be a whole number of days"),
        ({"events": ("payment",)}, "events[0] must be a RecordEvent"),
        ({"language": "fr"}, "language must be one of zh, en"),
    ],
)
def test_a_record_that_contradicts_itself_is_refused(change, message):
    with pytest.raises(LetterInvalid, match=re.escape(message)) as refused:
        replace(record_zh(), **change)
    assert refused.value.code == "letter.invalid"
