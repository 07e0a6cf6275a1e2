"""The visit's documents as `doorstep.letters` data: the notice letter and the case file."""

from datetime import datetime

from django.conf import settings

from doorstep.ledger.domain import local_date
from doorstep.ledger.engine.positions import Position
from doorstep.letters.documents import VisitNotice, Visitor
from doorstep.letters.render import render_pdf
from doorstep.visits.models import Visit

PURPOSE = {
    "zh": "核实您的居住与联系情况，了解您的还款困难，并当面说明可选的还款方式",
    "en": "to confirm where and how to reach you, hear about any difficulty in paying, and explain "
    "the repayment options in person",
}


def notice_document(visit: Visit, *, at: datetime, position: Position) -> VisitNotice:
    from doorstep.visits.domain import notice_links

    account = visit.account
    borrower = account.borrower
    language = "zh" if borrower.language == "zh" else "en"
    links = notice_links(visit)
    cfg = settings.DOORSTEP_VISITS
    return VisitNotice(
        reference=visit.notice_reference,
        language=language,
        lender_name=cfg["lender_name"],
        lender_phone=cfg["lender_phone"],
        issued_on=local_date(account, at),
        borrower_name=borrower.name,
        address=borrower.address,
        account_id=account.pk,
        product_label=account.get_product_display(),
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
    )


def notice_pdf(visit: Visit, *, at: datetime, position: Position) -> bytes:
    """`position`: the account's figures on the notice's day, the same the message gave."""
    return render_pdf(notice_document(visit, at=at, position=position))
