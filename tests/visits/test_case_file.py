"""The team's case file, built from the ledger: the statement balances to what is owed, the
overdue breakdown sums to the overdue figure, the notice is the one sent; only the visit's agents
may open it, only on the day."""

import shutil
import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from doorstep.ledger.domain import assess_charges, local_date
from doorstep.ledger.models import Account
from doorstep.visits.letters import case_file_document, case_file_pdf
from doorstep.visits.models import Visit
from tests.visits.conftest import NOTICE_DAY, VISIT_DAY, local
from tests.visits.test_workflow import assigned


@pytest.mark.django_db
def test_the_case_file_adds_up(field):
    assess_charges(NOTICE_DAY)
    visit = assigned(field)
    document = case_file_document(visit, at=local(VISIT_DAY, 8))
    account = Account.objects.get(pk="V1")
    assert document.statement[-1].balance_cents == account.balance_cents
    assert sum(line.total_cents for line in document.overdue_breakdown) == document.overdue_cents
    assert document.overdue_breakdown[0].penalty_cents > 0  # charges are in the breakdown
    assert document.notice.reference == visit.notice_reference
    assert document.masked_phone.count("*") == 4
    text = subprocess.run(  # noqa: S603 (a fixed local tool)
        [shutil.which("pdftotext"), "-", "-"], input=case_file_pdf(visit, at=local(VISIT_DAY, 8)),
        capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    assert account.borrower.name in text
    assert "展期" in text  # the options the agent may offer


@pytest.mark.django_db
def test_only_the_visits_agents_open_it_and_only_on_the_day(field):
    visit = assigned(field)
    first, _ = field["agents"]
    first.user = get_user_model().objects.create_user("fa1")
    first.save(update_fields=["user"])
    agent, stranger = Client(), Client()
    agent.force_login(first.user)
    stranger.force_login(get_user_model().objects.create_user("someone"))
    url = f"/field/visits/{visit.pk}/case-file.pdf"
    assert agent.get(url).status_code == 404  # the visit is on VISIT_DAY, not today
    today = local_date(visit.account, timezone.now())
    Visit.objects.filter(pk=visit.pk).update(visit_date=today)  # access is the point here
    response = agent.get(url)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert stranger.get(url).status_code in (403, 404)
