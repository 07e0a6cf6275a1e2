"""Several small reads in one round trip to the database.

On PostgreSQL the statements of a few `values_list` querysets go out together in a psycopg
pipeline, and their rows come back together: the real-time path's reads of one account (its
schedule, entries, contacts, holds, previous stage) each waited for a loopback round trip
before the next was sent (0.3-0.4 ms apiece at a million accounts on these machines). Elsewhere
(SQLite, in process) they run one after another. The statements go through Django's cursor, so
its query log and execute wrappers see them as usual.
"""

from django.db import connection
from django.db.models import QuerySet


def fetch_all(*querysets: QuerySet) -> list[list[tuple]]:
    """The rows of each queryset, in order. Each must be a `values_list` whose values need no
    conversion by Django on PostgreSQL (numbers, text, dates, times): the rows come from the
    driver as they are."""
    if connection.vendor != "postgresql" or not _pipelines():
        return [list(queryset) for queryset in querysets]
    statements = [queryset.query.sql_with_params() for queryset in querysets]
    connection.ensure_connection()
    cursors = [connection.cursor() for _ in statements]
    try:
        with connection.connection.pipeline():
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
        return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


def _pipelines() -> bool:
    import psycopg

    return psycopg.Pipeline.is_supported()
