"""The visit's documents as `doorstep.letters` data: the notice letter and the case file."""

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation

from doorstep.ledger.domain import local_date
from doorstep.ledger.engine.positions import Position
from doorstep.ledger.enums import EntryKind
from doorstep.ledger.models import LedgerEntry
from doorstep.ledger.privacy import configured_cipher
from doorstep.ledger.queries import account_position
from doorstep.letters.documents import (
    CaseFile,
    LetterInvalid,
    OverdueLine,
    StatementLine,
    VisitNotice,
    Visitor,
)
from doorstep.letters.render import render_pdf
from doorstep.money import yuan_display
from doorstep.pii import mask_phone
from doorstep.visits.models import Visit

PURPOSE = {
    "zh": "核实您的居住与联系情况，了解您的还款困难，并当面说明可选的还款方式",
    "en": "to confirm where and how to reach you, hear about any difficulty in paying, and explain "
    "the repayment options in person",
}


def notice_document(visit: Visit, *, at: datetime, position: Position) -> VisitNotice:
    from doorstep.visits.domain import notice_links, reschedule_range

    account = visit.account
    borrower = account.borrower
    language = "zh" if borrower.language == "zh" else "en"
    links = notice_links(visit)
    cfg = settings.DOORSTEP_VISITS
    # The product's name in the letter's language, not in whatever language is active here.
    with translation.override("zh-hans" if language == "zh" else "en"):
        product_label = account.get_product_display()
    return VisitNotice(
        reference=visit.notice_reference,
        language=language,
        lender_name=cfg["lender_name"],
        lender_phone=cfg["lender_phone"],
        issued_on=local_date(account, at),
        borrower_name=borrower.name,
        address=borrower.address,
        account_id=account.pk,
        product_label=product_label,
        overdue_cents=position.overdue,
        outstanding_cents=position.outstanding,
        dpd=position.dpd,
        visit_date=visit.visit_date,
        window_start=visit.window_start,
        window_end=visit.window_end,
        purpose=PURPOSE[language],
        visitors=tuple(
            Visitor(name=m.name, credential_no=m.credential_no, organisation=m.organisation)
            for m in visit.team.members.order_by("pk")
        ),
        verify_url=links["verify"],
        respond_url=links["respond"],
        pay_url=links["pay"],
        respond_by=visit.visit_date,
        # Answered on the notice's day; a later answer may move the visit later still.
        reschedule_until=reschedule_range(visit, at)[1],
    )


def notice_pdf(visit: Visit, *, at: datetime, position: Position) -> bytes:
    """`position`: the account's figures on the notice's day, the same the message gave."""
    return render_pdf(notice_document(visit, at=at, position=position))


# The case file is the team's, in Chinese; these are the contract and rules it cites.
LEGAL_BASIS = (
    "《借款合同》逾期条款：借款人未按期还款的，应按约定支付滞纳金和逾期罚息。",
    "《借款合同》通知条款：贷款人可通过短信、电话、信函及上门等方式提示还款，上门须提前通知。",
    "《消费金融公司管理办法》（国家金融监督管理总局，2024）：不得采用暴力、威胁、恐吓、骚扰等方式催收，"
    "不得向无关第三人催收，催收记录须真实、完整、可追溯。",
    "GB/T 45251-2025《互联网金融 个人网络消费信贷 贷后催收风控指引》：上门须两人同行、出示证件、"
    "在规定时段内进行。",
)
STATEMENT_WORDS = {
    EntryKind.PAYMENT: "还款",
    EntryKind.WAIVER: "减免",
    EntryKind.LATE_FEE: "滞纳金",
}


def _statement(account) -> tuple[StatementLine, ...]:
    """Loan, then every money movement oldest first; penalty interest (accrued daily) one line a
    month; the balance after each line."""
    scheduled = sum(
        i.principal_cents + i.interest_cents + i.fee_cents for i in account.instalments.all()
    )
    rows: list[tuple] = [
        (account.opened_on, 0, f"放款：合同应还本息费合计 {yuan_display(scheduled)}", scheduled, 0)
    ]
    penalties: dict = defaultdict(int)
    for entry in LedgerEntry.objects.filter(account=account).order_by("effective_on", "id"):
        if entry.kind == EntryKind.PENALTY_INTEREST:
            penalties[entry.effective_on.replace(day=1)] += entry.amount_cents
            continue
        debit = entry.amount_cents if entry.kind == EntryKind.LATE_FEE else 0
        credit = entry.amount_cents if entry.kind in (EntryKind.PAYMENT, EntryKind.WAIVER) else 0
        rows.append(
            (entry.effective_on, 1, STATEMENT_WORDS.get(entry.kind, entry.kind), debit, credit)
        )
    for month, amount in penalties.items():
        rows.append((month, 2, f"罚息（{month:%Y年%m月}累计）", amount, 0))
    balance, lines = 0, []
    for day, _order, words, debit, credit in sorted(rows, key=lambda r: (r[0], r[1])):
        balance += debit - credit
        lines.append(StatementLine(day, words, debit, credit, balance))
    return tuple(lines)


def _overdue_lines(position: Position) -> tuple[OverdueLine, ...]:
    return tuple(
        OverdueLine(
            seq=i.seq,
            due_date=i.due_date,
            principal_cents=i.unpaid_of("principal"),
            interest_cents=i.unpaid_of("interest"),
            fee_cents=i.unpaid_of("fee"),
            late_fee_cents=i.unpaid_of("late_fee"),
            penalty_cents=i.unpaid_of("penalty_interest"),
            days_overdue=(position.as_of - i.due_date).days,
        )
        for i in position.instalments
        if i.due_date < position.as_of and i.unpaid > 0
    )


def _options(overdue_cents: int) -> tuple[str, ...]:
    """What the agent may offer: the lender's arrangement terms (settings), decided in the office
    or by the borrower on the portal, never taken in cash at the door."""
    limits = settings.DOORSTEP_ARRANGEMENTS["limits"]
    return (
        f"当场通过官方渠道（扫描通知书二维码或登录借款人门户）还清逾期金额 {yuan_display(overdue_cents)}，"
        "上门即告结束；不得收取现金或让借款人转账到个人账户。",
        f"展期：逾期金额最多推迟 {limits['max_extension_days']} 天归还。",
        f"分期：逾期金额或全部余额分 {limits['min_months']}–{limits['max_months']} 个月归还，"
        f"首期在 {limits['max_first_due_days']} 天内。",
        "最低还款或部分还款：先还一部分，约定日期还清其余。",
        "确有困难（患病、失业）的，可凭证明材料申请减免滞纳金和罚息。",
        "借款人可当场在门户提交申请，或记录结果“申请还款安排”，由办公室审批后通知借款人。",
    )


def case_file_document(visit: Visit, *, at: datetime) -> CaseFile:
    """The team's file for one visit, from the ledger as of the visit's day."""
    account = visit.account
    borrower = account.borrower
    today = local_date(account, at)
    position = account_position(account, today)
    notice = None
    if visit.notice_sent_at is not None:
        sent_on = local_date(account, visit.notice_sent_at)
        try:
            notice = notice_document(
                visit, at=visit.notice_sent_at, position=account_position(account, sent_on)
            )
        except LetterInvalid:
            notice = None  # paid since, or the plan moved: the file still serves the visit
    with translation.override("zh-hans"):
        product_label = str(account.get_product_display())
    reasons = visit.reasons.get("zh") or ""
    return CaseFile(
        reference=f"CF-{visit.pk}",
        language="zh",
        generated_at=at.astimezone(ZoneInfo(borrower.region.time_zone)),
        borrower_name=borrower.name,
        masked_phone=mask_phone(configured_cipher().decrypt(borrower.phone_encrypted)),
        address=borrower.address,
        account_id=account.pk,
        product_label=product_label,
        opened_on=account.opened_on,
        principal_cents=account.principal_cents,
        statement=_statement(account),
        overdue_breakdown=_overdue_lines(position),
        overdue_cents=position.overdue,
        outstanding_cents=position.outstanding,
        dpd=position.dpd,
        bucket=position.bucket,
        legal_basis=LEGAL_BASIS,
        notice=notice,
        options=_options(position.overdue),
        decision_reasons=tuple(r for r in reasons.split("；") if r) or ("—",),
    )


def case_file_pdf(visit: Visit, *, at: datetime) -> bytes:
    return render_pdf(case_file_document(visit, at=at))
