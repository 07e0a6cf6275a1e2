"""`roundtrips.fetch_all`: several reads in one round trip (a psycopg pipeline on PostgreSQL), the
same rows as each queryset gives alone, seen by Django's execute wrappers."""

from datetime import date

import pytest
from django.db import connection, transaction

from doorstep import roundtrips
from doorstep.ledger.models import Region
from doorstep.strategy.models import Decision

pytestmark = pytest.mark.django_db


def test_the_rows_are_each_querysets_own_and_every_statement_is_seen():
    Region.objects.create(code="110101", name="东城区", field_coverage="in_house")
    Region.objects.create(code="310101", name="黄浦区", field_coverage="none",
                          time_zone="Asia/Urumqi")  # fmt: skip
    querysets = [
        Region.objects.values_list("code", "name", "time_zone").order_by("code"),
        Region.objects.filter(field_coverage="none").values_list("code"),
        Region.objects.filter(code="999999").values_list("code"),
        Decision.objects.filter(as_of__lt=date(2026, 11, 20)).values_list("as_of")[:1],
    ]
    seen = []

    def count(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with transaction.atomic(), connection.execute_wrapper(count):
        rows = roundtrips.fetch_all(*querysets)

    assert rows == [list(queryset) for queryset in querysets]
    assert rows[0] == [("110101", "东城区", "Asia/Shanghai"), ("310101", "黄浦区", "Asia/Urumqi")]
    assert rows[2] == rows[3] == []
    assert len(seen) == len(querysets)
