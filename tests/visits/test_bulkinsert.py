"""`insert_objects` writes what the ORM would (COPY on PostgreSQL, executemany on SQLite), and
`new_instances` makes what the model's constructor would."""

from datetime import date, time

import pytest

from doorstep.bulkinsert import insert_objects, new_instances
from doorstep.visits.enums import VisitEvent, VisitState
from doorstep.visits.models import Visit, VisitTransition
from tests.visits.conftest import AS_OF, local

REASONS = {
    "rules": ["home_visit.dpd_90"],
    "en": '100 days overdue with ¥5,000.00 unpaid; "quoted", a tab\tand a newline\n',
    "zh": "逾期 100 天，未还 ¥5,000.00",
}


def test_objects_inserted_in_bulk_read_back_as_the_orm_would_write_them(field):
    at = local(AS_OF, 2, 30, 15).replace(microsecond=123456)
    visits = [
        Visit(id="V-bulk-1", account_id="V1", state=VisitState.PROPOSED, proposed_on=AS_OF,
              reasons=REASONS, dpd=100, overdue_cents=500_000, priority=7, created_at=at,
              updated_at=at, visit_date=date(2026, 11, 25), window_start=time(9),
              window_end=time(11, 30)),
        Visit(id="V-bulk-2", account_id="V2", state=VisitState.PROPOSED, proposed_on=AS_OF,
              reasons={}, dpd=0, overdue_cents=0, priority=0, created_at=at, updated_at=at),
    ]  # fmt: skip
    transitions = [
        VisitTransition(visit=v, event=VisitEvent.PROPOSE, to_state=VisitState.PROPOSED,
                        by="nightly", at=at, data={"rules": v.reasons.get("rules", [])})
        for v in visits
    ]  # fmt: skip

    assert insert_objects(visits) == 2
    assert insert_objects(transitions) == 2
    assert insert_objects([]) == 0

    first, second = Visit.objects.filter(id__startswith="V-bulk-").order_by("id")
    assert (first.reasons, first.created_at, first.visit_date) == (REASONS, at, date(2026, 11, 25))
    assert (first.window_start, first.window_end) == (time(9), time(11, 30))
    assert (first.overdue_cents, first.priority, first.notice_sent_at) == (500_000, 7, None)
    assert (second.reasons, second.visit_date, second.window_start) == ({}, None, None)
    read = VisitTransition.objects.filter(visit__in=[first, second]).order_by("visit_id")
    assert [(t.visit_id, t.event, t.by, t.at, t.data) for t in read] == [
        ("V-bulk-1", VisitEvent.PROPOSE, "nightly", at, {"rules": ["home_visit.dpd_90"]}),
        ("V-bulk-2", VisitEvent.PROPOSE, "nightly", at, {"rules": []}),
    ]


def test_new_instances_hold_what_the_constructor_gives_defaults_included(field):
    at = local(AS_OF, 2)
    row = {"id": "V-new", "account_id": "V1", "state": VisitState.PROPOSED, "proposed_on": AS_OF,
           "created_at": at, "updated_at": at}  # fmt: skip
    fields = [f.attname for f in Visit._meta.concrete_fields]

    one, two = new_instances(Visit, [row, {**row, "id": "V-new-2", "account_id": "V2"}])

    made = Visit(**row)
    assert [getattr(one, name) for name in fields] == [getattr(made, name) for name in fields]
    assert one.reasons == {}
    assert one.reasons is not two.reasons  # a callable default is called for every row
    assert one._state.adding
    assert one.notice_pdf.name == ""
    insert_objects([one, two])
    assert Visit.objects.get(pk="V-new").priority == made.priority


def test_new_instances_refuse_a_field_the_model_does_not_have():
    with pytest.raises(TypeError, match="Visit has no field acount_id"):
        new_instances(Visit, [{"id": "V-x", "acount_id": "V1"}])
