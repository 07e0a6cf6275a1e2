"""A notice letter names the product in the letter's language, whatever language is active when
it is made (a command runs in Chinese, the default; a request may be in English)."""

from datetime import time

import pytest
from django.utils import translation

from doorstep.ledger.models import Borrower
from doorstep.ledger.queries import account_position
from doorstep.visits import domain, letters
from tests.visits.conftest import NOTICE_DAY, VISIT_DAY, local


@pytest.fixture
def noticed(field):
    [visit] = domain.propose_visits(
        [domain.Proposal("V1", None, {"rules": ["home_visit.dpd_90"], "en": "e", "zh": "z"},
                         100, 500000)],
        as_of=NOTICE_DAY, by="nightly", at=local(NOTICE_DAY, 2),
    )  # fmt: skip
    domain.approve_visits([visit.pk], by="sup", at=local(NOTICE_DAY, 9))
    return domain.send_notice(visit.pk, visit_date=VISIT_DAY, window=(time(9), time(11)),
                              team=field["team"], order=1, eta=time(10), by="sup",
                              at=local(NOTICE_DAY, 10))  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("active", ["zh-hans", "en"])
@pytest.mark.parametrize(("language", "product"), [("zh", "消费分期"), ("en", "Consumer instalment loan")])  # fmt: skip
def test_the_product_is_named_in_the_letters_language(noticed, active, language, product):
    Borrower.objects.filter(accounts=noticed.account_id).update(language=language)
    noticed.account.borrower.refresh_from_db()
    position = account_position(noticed.account, NOTICE_DAY)

    with translation.override(active):
        document = letters.notice_document(noticed, at=local(NOTICE_DAY, 10), position=position)

    assert (document.language, document.product_label) == (language, product)
