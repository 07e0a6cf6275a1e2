"""A day's plan: notices for the visits that fit, the rest carried with a reason; dispatch on
the day in route order; the nightly run proposes and cancels; the credential check."""

from datetime import date, time

import pytest

from doorstep.contact.models import OutboundMessage
from doorstep.strategy.domain import run_nightly
from doorstep.visits import domain
from doorstep.visits.enums import VisitState
from doorstep.visits.models import CredentialLookup, Visit
from tests.visits.conftest import AS_OF, NOTICE_DAY, VISIT_DAY, local


def approved_all():
    made = domain.propose_visits(
        [domain.Proposal(f"V{n}", None, {"rules": ["home_visit.dpd_90"]}, 100, 500000)
         for n in (1, 2, 3)],
        as_of=NOTICE_DAY, by="nightly", at=local(NOTICE_DAY, 2),
    )  # fmt: skip
    domain.approve_visits([v.pk for v in made], by="sup", at=local(NOTICE_DAY, 9))
    return made


@pytest.mark.django_db
def test_the_plan_notices_what_fits_and_carries_the_rest(field, settings):
    settings.DOORSTEP_VISITS = {**settings.DOORSTEP_VISITS, "routing_seconds": 0.3}
    team = field["team"]
    team.capacity = 2
    team.save()
    approved_all()
    result = domain.plan_notices("440305", VISIT_DAY, by="sup", at=local(NOTICE_DAY, 10))
    assert len(result.noticed) == 2
    assert list(result.carried.values()) == [f"not planned on {VISIT_DAY}: no_team_capacity"]
    noticed = Visit.objects.filter(state=VisitState.NOTICE_SENT).order_by("route_order")
    assert [v.route_order for v in noticed] == [1, 2]
    for v in noticed:
        assert time(8) <= v.window_start < v.window_end <= time(20)
        assert v.window_start <= v.eta <= v.window_end
    assert OutboundMessage.objects.count() == 2
    left = Visit.objects.get(pk=next(iter(result.carried)))
    assert (left.state, left.carried_reason) == (VisitState.APPROVED, result.carried[left.pk])

    day = domain.dispatch_day("440305", VISIT_DAY, by="dispatch", at=local(VISIT_DAY, 7))
    assert sorted(day.noticed) == sorted(v.pk for v in noticed)
    assert set(Visit.objects.filter(state=VisitState.ASSIGNED).values_list("pk", flat=True)) == (
        {v.pk for v in noticed}
    )


@pytest.mark.django_db
def test_the_plan_is_refused_inside_the_notice_lead(field):
    approved_all()
    with pytest.raises(domain.VisitError):
        domain.plan_notices("440305", date(2026, 11, 14), by="sup", at=local(NOTICE_DAY, 10))


@pytest.mark.django_db(transaction=True)
def test_the_nightly_run_proposes_visits_with_their_reasons_and_no_second_one(field):
    run_nightly(AS_OF, by="nightly")
    visits = Visit.objects.filter(state=VisitState.PROPOSED).order_by("account_id")
    assert [v.account_id for v in visits] == ["V1", "V2", "V3"]
    assert "home_visit.dpd_90" in visits[0].reasons["rules"]
    assert "90" in visits[0].reasons["en"]
    run_nightly(AS_OF, by="nightly")  # again: no second proposal for the same account
    assert Visit.objects.count() == 3


@pytest.mark.django_db
def test_a_credential_is_checked_rate_limited_and_the_visit_told_only_to_its_borrower(
    field, settings
):
    settings.DOORSTEP_VISITS = {**settings.DOORSTEP_VISITS, "lookups_per_hour": 3}
    visit = approved_all()[0]
    visit = domain.send_notice(visit.pk, visit_date=VISIT_DAY, window=(time(9), time(11)),
                               team=field["team"], order=1, eta=time(10), by="sup",
                               at=local(NOTICE_DAY, 10))  # fmt: skip
    at = local(VISIT_DAY, 9, 50)
    anyone = domain.verify_credential("fa-0001 ", client="1.2.3.4", at=at)
    assert (anyone.found, anyone.valid_today, anyone.visit_today) == (True, True, None)
    borrower = domain.verify_credential("FA-0002", client="1.2.3.4", at=at, visit=visit)
    assert borrower.visit_today is True
    assert domain.verify_credential("FA-9999", client="1.2.3.4", at=at).found is False
    limited = domain.verify_credential("FA-0001", client="1.2.3.4", at=at)
    assert (limited.limited, limited.found) == (True, False)
    assert domain.verify_credential("FA-0001", client="5.6.7.8", at=at).found is True
    assert CredentialLookup.objects.count() == 5
    assert not CredentialLookup.objects.filter(client="1.2.3.4").exists()  # kept hashed


@pytest.mark.django_db
def test_the_plans_lead_time_is_counted_in_the_regions_calendar(field):
    approved_all()
    # 00:30 on the 13th in Shanghai is still the 12th in UTC: the 15th is 2 local days away.
    with pytest.raises(domain.VisitError) as short:
        domain.plan_notices(
            "440305", date(2026, 11, 15), by="sup", at=local(date(2026, 11, 13), 0, 30)
        )
    assert short.value.code == "visit.notice_lead"
    assert not OutboundMessage.objects.exists()


@pytest.mark.django_db
def test_the_notice_states_todays_figures_after_a_partial_payment(field):
    from doorstep.strategy.domain import take_payment

    visit = approved_all()[0]  # proposed with ¥5,000.00 overdue
    take_payment("V1", amount_cents=100000, paid_at=local(NOTICE_DAY, 9, 30), reference="PART",
                 by="gateway", at=local(NOTICE_DAY, 9, 30))  # fmt: skip
    visit = domain.send_notice(visit.pk, visit_date=VISIT_DAY, window=(time(9), time(11)),
                               team=field["team"], order=1, eta=time(10), by="sup",
                               at=local(NOTICE_DAY, 10))  # fmt: skip
    text = OutboundMessage.objects.get(account_id="V1").text
    assert "4000.00" in text  # still in the visit stage: ¥4,000 overdue, more than 90 days
    assert "5000.00" not in text
    assert visit.notice_pdf.read().startswith(b"%PDF")
