"""Placing an account: only under a valid contract for the region; then only that agency may
contact the borrower, and it sees only what is placed with it."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from doorstep.audit.models import AuditEntry
from doorstep.compliance.domain import check
from doorstep.compliance.engine.checks import Action
from doorstep.contact.models import Contact
from doorstep.ledger.domain import local_date, post_payment
from doorstep.ledger.models import Account, Region
from doorstep.placements.domain import SETTLED, PlacementRefused, end_placement, place_account
from doorstep.placements.models import Contract, Placement
from doorstep.strategy.domain import run_nightly, take_payment
from tests.console.test_calls import zone_where_it_is

pytestmark = pytest.mark.usefixtures("today_is_a_working_day")


def _call(actor, at=None):
    at = at or timezone.now()
    return check(Action("A1", "BA1", "call", "collection", actor, at), now=at)


def test_only_an_agency_under_a_valid_contract_for_the_region(agencies):
    now = timezone.now()
    with pytest.raises(PlacementRefused) as refused:
        place_account("A1", agency="AG2", by="sup", at=now)  # AG2 covers another region
    assert refused.value.code == "placement.contract"
    Contract.objects.filter(reference="C-1").update(valid_until=now.date() - timedelta(days=1))
    with pytest.raises(PlacementRefused):
        place_account("A1", agency="AG1", by="sup", at=now)
    assert not Placement.objects.exists()
    Contract.objects.filter(reference="C-1").update(valid_until=now.date() + timedelta(days=300))
    placed = place_account("A1", agency="AG1", by="sup", at=now)
    assert (placed.agency_id, placed.until) == ("AG1", None)
    with pytest.raises(PlacementRefused) as again:
        place_account("A1", agency="AG1", by="sup", at=now)
    assert again.value.code == "placement.placed"


def test_a_placed_account_is_contacted_by_its_agency_only(agencies):
    Region.objects.filter(code="440305").update(time_zone=zone_where_it_is(12))
    assert _call("phone_collector").allowed
    place_account("A1", agency="AG1", by="sup", at=timezone.now())
    refused = _call("phone_collector")
    assert (refused.allowed, refused.rule.id) == (False, "cn.placed")
    assert _call("agency:AG1:ag1-wang").allowed
    assert _call("agency:AG2:ag2-li").rule.id == "cn.placed"
    end_placement("A1", by="sup", at=timezone.now(), reason="recalled")
    # Ended today, so it still holds today; tomorrow the lender calls again.
    assert _call("phone_collector").rule.id == "cn.placed"
    tomorrow = _call("phone_collector", timezone.now() + timedelta(days=1))
    assert tomorrow.rule is None or tomorrow.rule.id != "cn.placed"


def test_an_agency_sees_only_what_is_placed_with_it(agencies):
    Region.objects.filter(code="440305").update(time_zone=zone_where_it_is(12))
    place_account("A1", agency="AG1", by="sup", at=timezone.now())
    users = get_user_model().objects
    mine, theirs = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")
    mine.force_login(users.get(username="ag1-wang"))
    theirs.force_login(users.get(username="ag2-li"))
    listing = mine.get("/console/agency/").content.decode()
    assert "A1" in listing
    assert "A2" not in listing
    page = mine.get("/console/accounts/A1/").content.decode()
    assert "13800000000" in page  # the number to call
    assert "National ID" not in page
    assert mine.get("/console/accounts/A2/").status_code == 403
    assert theirs.get("/console/accounts/A1/").status_code == 403
    mine.post("/console/accounts/A1/call", {"outcome": "no_answer"})
    contact = Contact.objects.get(account_id="A1")
    assert (contact.outcome, contact.recorded_by) == ("no_answer", "agency:AG1:ag1-wang")


def test_paying_off_ends_the_placement_at_once(agencies):
    now = timezone.now()
    place_account("A1", agency="AG1", by="sup", at=now)
    balance = Account.objects.get(pk="A1").balance_cents
    take_payment("A1", amount_cents=balance, paid_at=now, by="borrower", at=now)
    placement = Placement.objects.get(account_id="A1")
    assert (placement.until, placement.end_reason) == (local_date(placement.account, now), SETTLED)
    assert AuditEntry.objects.filter(code="placement.ended").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_nightly_run_ends_the_placements_of_accounts_settled_without_a_re_decision(agencies):
    now = timezone.now()
    place_account("A1", agency="AG1", by="sup", at=now)
    balance = Account.objects.get(pk="A1").balance_cents
    post_payment("A1", amount_cents=balance, paid_at=now, by="import", at=now)  # the ledger alone
    assert Placement.objects.get(account_id="A1").until is None

    run_nightly(local_date(Account.objects.get(pk="A1"), now), by="nightly")

    placement = Placement.objects.get(account_id="A1")
    assert (placement.ended_by, placement.end_reason) == ("nightly", SETTLED)


def _alert(response) -> str:
    page = response.content.decode()
    start = page.index('role="alert">') + len('role="alert">')
    return page[start : page.index("</div>", start)]


def test_a_refused_placement_reads_in_the_pages_language_and_its_message_stays_english(agencies):
    from django.utils import translation

    from doorstep.web.domain import ensure_demo_logins

    ensure_demo_logins(lambda role: f"pw-{role}")
    supervisor = get_user_model().objects.get(username="collections_supervisor")
    shown = {}
    for language in ("zh-hans", "en"):
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(supervisor)
        shown[language] = _alert(
            client.post("/console/placements/A1/", {"agency": "AG2"}, follow=True)
        )
    with translation.override("zh-hans"), pytest.raises(PlacementRefused) as refused:
        place_account("A1", agency="AG2", by="sup", at=timezone.now())
    region = Region.objects.get(code="440305").name

    assert shown["zh-hans"] == f"二号资产 在 {region} 没有有效的委外合同"
    assert shown["en"] == f"二号资产 has no valid contract for {region}"
    assert (refused.value.message, refused.value.code) == (shown["en"], "placement.contract")
    assert not Placement.objects.exists()
