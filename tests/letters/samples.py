"""Documents as the visits app (and the portal) would build them: one borrower, in Chinese and in
English."""

import hashlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from doorstep.letters.documents import (
    BorrowerRecord,
    CaseFile,
    OverdueLine,
    RecordEvent,
    SettlementCertificate,
    StatementLine,
    VisitNotice,
    Visitor,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

VISITORS_ZH = (
    Visitor(name="李明", credential_no="FV-310115-0042", organisation="星辰消费金融 上海外访组"),
    Visitor(name="王芳", credential_no="FV-310115-0057", organisation="星辰消费金融 上海外访组"),
)

OVERDUE_LINES = (
    OverdueLine(
        seq=3,
        due_date=date(2026, 3, 10),
        principal_cents=150000,
        interest_cents=9000,
        fee_cents=1000,
        late_fee_cents=3000,
        penalty_cents=6825,
        days_overdue=91,
    ),
    OverdueLine(
        seq=4,
        due_date=date(2026, 4, 10),
        principal_cents=150000,
        interest_cents=9000,
        fee_cents=1000,
        late_fee_cents=3000,
        penalty_cents=4500,
        days_overdue=60,
    ),
    OverdueLine(
        seq=5,
        due_date=date(2026, 5, 10),
        principal_cents=150000,
        interest_cents=9000,
        fee_cents=1000,
        late_fee_cents=3000,
        penalty_cents=2250,
        days_overdue=30,
    ),
)
OVERDUE_CENTS = sum(line.total_cents for line in OVERDUE_LINES)  # ¥5,025.75
# Instalment 6 (¥1,600.00) is not yet due on 2026-06-09.
OUTSTANDING_CENTS = OVERDUE_CENTS + 160000  # ¥6,625.75


def notice_zh() -> VisitNotice:
    return VisitNotice(
        reference="VN-2026-000123",
        language="zh",
        lender_name="星辰消费金融有限公司",
        lender_phone="400-820-1234",
        issued_on=date(2026, 6, 9),
        borrower_name="张伟",
        address="上海市浦东新区张杨路1234弄5号601室",
        account_id="A0001",
        product_label="消费分期",
        overdue_cents=OVERDUE_CENTS,
        outstanding_cents=OUTSTANDING_CENTS,
        dpd=91,
        visit_date=date(2026, 6, 16),
        window_start=time(9, 30),
        window_end=time(11, 30),
        purpose=(
            "核实您的居住地址和联系方式，了解您目前的收入和困难，"
            "并与您商量分期还款、延期等可行的还款安排。"
        ),
        visitors=VISITORS_ZH,
        verify_url="https://portal.xingchen.example.cn/verify",
        respond_url="https://portal.xingchen.example.cn/v/VN-2026-000123",
        pay_url="https://portal.xingchen.example.cn/pay/A0001",
        respond_by=date(2026, 6, 14),
        reschedule_until=date(2026, 7, 12),
    )


def notice_en() -> VisitNotice:
    return VisitNotice(
        reference="VN-2026-000124",
        language="en",
        lender_name="Xingchen Consumer Finance Co., Ltd.",
        lender_phone="+86 400-820-1234",
        issued_on=date(2026, 6, 9),
        borrower_name="Daniel Becker",
        address="Room 1502, 88 Century Avenue, Pudong New Area, Shanghai 200120",
        account_id="A0002",
        product_label="instalment loan",
        overdue_cents=OVERDUE_CENTS,
        outstanding_cents=OUTSTANDING_CENTS,
        dpd=91,
        visit_date=date(2026, 6, 17),
        window_start=time(18, 0),
        window_end=time(20, 0),
        purpose=(
            "To confirm your address and contact details, to understand your present income "
            "and difficulties, and to discuss a repayment arrangement such as instalments or "
            "more time to pay."
        ),
        visitors=(
            Visitor(
                name="Li Ming", credential_no="FV-310115-0042", organisation="Shanghai field team"
            ),
            Visitor(
                name="Wang Fang", credential_no="FV-310115-0057", organisation="Shanghai field team"
            ),
        ),
        verify_url="https://portal.xingchen.example.cn/verify",
        respond_url="https://portal.xingchen.example.cn/v/VN-2026-000124",
        pay_url="https://portal.xingchen.example.cn/pay/A0002",
        respond_by=date(2026, 6, 14),
        reschedule_until=date(2026, 7, 12),
    )


def case_file_zh() -> CaseFile:
    statement = (
        StatementLine(
            date(2025, 12, 10), "放款：本金 ¥9,000.00，6期利息及费用 ¥600.00", 960000, 0, 960000
        ),
        StatementLine(date(2026, 1, 10), "第1期还款", 0, 160000, 800000),
        StatementLine(date(2026, 2, 10), "第2期还款", 0, 160000, 640000),
        StatementLine(date(2026, 3, 14), "第3期滞纳金", 3000, 0, 643000),
        StatementLine(date(2026, 4, 14), "第4期滞纳金", 3000, 0, 646000),
        StatementLine(date(2026, 5, 14), "第5期滞纳金", 3000, 0, 649000),
        StatementLine(date(2026, 6, 9), "罚息（累计）", 13575, 0, 662575),
    )
    return CaseFile(
        reference="CF-2026-000123",
        language="zh",
        generated_at=datetime(2026, 6, 9, 14, 5, tzinfo=SHANGHAI),
        borrower_name="张伟",
        masked_phone="138****5678",
        address="上海市浦东新区张杨路1234弄5号601室",
        account_id="A0001",
        product_label="消费分期",
        opened_on=date(2025, 12, 10),
        principal_cents=900000,
        statement=statement,
        overdue_breakdown=OVERDUE_LINES,
        overdue_cents=OVERDUE_CENTS,
        outstanding_cents=OUTSTANDING_CENTS,
        dpd=91,
        bucket="M4",
        legal_basis=(
            "《个人消费贷款合同》第八条：借款人未按期还款的，应支付逾期罚息和滞纳金。",
            "《个人消费贷款合同》第十二条：贷款人可通过电话、短信、信函及上门等方式提示还款。",
            "《消费金融公司管理办法》（国家金融监督管理总局，2024）关于催收行为的规定。",
        ),
        notice=notice_zh(),
        options=(
            "一次性结清逾期金额，可申请减免全部罚息（最多 ¥135.75）。",
            "剩余欠款分 6 期偿还，首期不低于 ¥1,000.00。",
            "记录还款承诺（金额与日期），承诺日期不晚于 14 天后。",
        ),
        decision_reasons=(
            "逾期 91 天且逾期金额 ¥5,025.75，达到上门条件（逾期≥90天且逾期金额≥¥3,000）。",
            "所在区域有自有外访覆盖；无争议、投诉或其他暂停事项。",
            "30 天内无上门记录，未超过上门次数上限。",
        ),
    )


# The settlement certificate: the same ¥9,000.00 loan, paid off on 2026-11-20 with the penalty
# interest waived.
PAID_CENTS = 1_001_825  # ¥10,018.25
WAIVED_CENTS = 13575  # ¥135.75
FINGERPRINT = hashlib.sha256(b"SC-A0001-20261123|A0001|2026-11-20|1001825|13575").hexdigest()


def certificate_zh() -> SettlementCertificate:
    return SettlementCertificate(
        reference="SC-A0001-20261123",
        language="zh",
        lender_name="星辰消费金融有限公司",
        lender_phone="400-820-1234",
        issued_on=date(2026, 11, 23),
        borrower_name="张伟",
        masked_national_id="3101**********1234",
        account_id="A0001",
        product_label="消费分期",
        opened_on=date(2025, 12, 10),
        principal_cents=900000,
        settled_on=date(2026, 11, 20),
        total_paid_cents=PAID_CENTS,
        total_waived_cents=WAIVED_CENTS,
        verify_url="https://portal.xingchen.example.cn/certificates/SC-A0001-20261123",
        fingerprint=FINGERPRINT,
    )


def certificate_en() -> SettlementCertificate:
    return SettlementCertificate(
        reference="SC-A0002-20261123",
        language="en",
        lender_name="Xingchen Consumer Finance Co., Ltd.",
        lender_phone="+86 400-820-1234",
        issued_on=date(2026, 11, 23),
        borrower_name="Daniel Becker",
        masked_national_id="E12*****89",
        account_id="A0002",
        product_label="instalment loan",
        opened_on=date(2025, 12, 10),
        principal_cents=900000,
        settled_on=date(2026, 11, 21),
        total_paid_cents=960000,
        total_waived_cents=0,
        verify_url="https://portal.xingchen.example.cn/certificates/SC-A0002-20261123",
        fingerprint=hashlib.sha256(b"SC-A0002-20261123").hexdigest(),
    )


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


EVENTS_ZH = (
    RecordEvent(_at(date(2025, 12, 10), 10, 2), "charge", "放款", "借款本金到账", 900000),
    RecordEvent(_at(date(2026, 1, 10), 9, 15), "payment", "第1期还款", "银行卡自动扣款", 160000),
    RecordEvent(_at(date(2026, 2, 10), 9, 12), "payment", "第2期还款", "银行卡自动扣款", 160000),
    RecordEvent(_at(date(2026, 3, 11), 10, 0), "message", "短信提醒", "第3期已到期，提醒还款"),
    RecordEvent(_at(date(2026, 3, 14), 0, 5), "charge", "第3期滞纳金", "", 3000),
    RecordEvent(_at(date(2026, 3, 20), 15, 30), "call", "电话沟通", "您表示收入暂时减少"),
    RecordEvent(_at(date(2026, 3, 21), 11, 0), "promise", "还款承诺", "承诺4月10日前还款", 160000),
    RecordEvent(_at(date(2026, 5, 20), 14, 0), "complaint", "投诉", "来电次数过多，已受理"),
    RecordEvent(_at(date(2026, 5, 22), 16, 40), "hold", "暂停联系", "投诉处理期间暂停外呼"),
    RecordEvent(_at(date(2026, 6, 9), 14, 5), "letter", "上门核实通知书", "编号 VN-2026-000123"),
    RecordEvent(_at(date(2026, 6, 16), 10, 10), "visit", "上门核实", "已见到本人，商定分期"),
    RecordEvent(
        _at(date(2026, 6, 18), 9, 0), "arrangement", "分期还款安排", "剩余欠款分6期", 662575
    ),
    RecordEvent(_at(date(2026, 6, 19), 13, 20), "dispute", "金额异议", "对罚息有疑问，已核对"),
    RecordEvent(_at(date(2026, 6, 25), 8, 30), "waiver", "罚息减免", "困难减免，已批准", 13575),
)


def record_zh() -> BorrowerRecord:
    return BorrowerRecord(
        reference="BR-A0001-20260701",
        language="zh",
        lender_name="星辰消费金融有限公司",
        lender_phone="400-820-1234",
        generated_at=datetime(2026, 7, 1, 9, 30, tzinfo=SHANGHAI),
        borrower_name="张伟",
        masked_phone="138****5678",
        account_id="A0001",
        product_label="消费分期",
        opened_on=date(2025, 12, 10),
        principal_cents=900000,
        overdue_cents=OVERDUE_CENTS,
        outstanding_cents=OUTSTANDING_CENTS,
        dpd=112,
        stage_label="还款安排执行中",
        events=EVENTS_ZH,
    )


LONG_RECORD_EVENTS = 600  # a long account's record: many pages


def record_en(events: int | None = None) -> BorrowerRecord:
    """The English record; with `events`, that many of them (a long account's record)."""
    start = _at(date(2025, 12, 10), 10)
    if events is None:
        listed = (
            RecordEvent(start, "charge", "Loan paid out", "Principal to your bank card", 900000),
            RecordEvent(
                _at(date(2026, 1, 10), 9, 15), "payment", "Instalment 1", "Card debit", 160000
            ),
            RecordEvent(
                _at(date(2026, 3, 11), 10), "message", "SMS reminder", "Instalment 3 is due"
            ),
            RecordEvent(_at(date(2026, 3, 20), 15, 30), "call", "Phone call", ""),
            RecordEvent(_at(date(2026, 6, 25), 8, 30), "waiver", "Penalty waived", "", 13575),
        )
    else:
        kinds = ("message", "call", "payment", "letter", "promise", "charge")
        listed = tuple(
            RecordEvent(
                start + timedelta(hours=7 * n),
                kinds[n % len(kinds)],
                f"Entry {n + 1}",
                f"Recorded detail of entry {n + 1}, one line",
                1000 + n if kinds[n % len(kinds)] in ("payment", "charge") else None,
            )
            for n in range(events)
        )
    return BorrowerRecord(
        reference="BR-A0002-20260701",
        language="en",
        lender_name="Xingchen Consumer Finance Co., Ltd.",
        lender_phone="+86 400-820-1234",
        generated_at=datetime(2026, 7, 1, 9, 30, tzinfo=SHANGHAI),
        borrower_name="Daniel Becker",
        masked_phone="139****0042",
        account_id="A0002",
        product_label="instalment loan",
        opened_on=date(2025, 12, 10),
        principal_cents=900000,
        overdue_cents=OVERDUE_CENTS,
        outstanding_cents=OUTSTANDING_CENTS,
        dpd=112,
        stage_label="Repayment arrangement",
        events=listed,
    )
