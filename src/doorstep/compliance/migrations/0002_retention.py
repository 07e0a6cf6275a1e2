"""Collection records are kept at least five years (DOMAIN §8; cn-default's `retention_years`,
the longest of the shipped packs): the database refuses to delete one younger than that, whatever
code path tries. Older rows may be purged. (PostgreSQL's TRUNCATE, which the test runner uses,
fires no row triggers; SQLite's flush lifts them like the audit trail's, tests/conftest.py.)

The tables belong to the contact, visits, complaints and arrangements apps; the rule is the
guard's, so the triggers live here, after those apps' tables exist.
"""

from django.db import migrations

YEARS = 5
# (table, the column that dates the record)
RECORDS = [
    ("contact_contact", "at"),
    ("contact_outboundmessage", "queued_at"),
    ("compliance_refusal", "at"),
    ("visits_visittransition", "at"),
    ("visits_evidence", "uploaded_at"),
    ("complaints_case", "filed_at"),
    ("arrangements_transition", "at"),
]
MESSAGE = f"collection records are kept {YEARS} years: this one is too recent to delete"

SQLITE = [
    f"""CREATE TRIGGER {table}_retention BEFORE DELETE ON {table}
        WHEN OLD.{column} > datetime('now', '-{YEARS} years')
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
    for table, column in RECORDS
]
SQLITE_REVERSE = [f"DROP TRIGGER IF EXISTS {table}_retention" for table, _ in RECORDS]

POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION collection_record_retention() RETURNS trigger AS $$
        BEGIN
            IF (to_jsonb(OLD) ->> TG_ARGV[0])::timestamptz > now() - interval '{YEARS} years' THEN
                RAISE EXCEPTION USING MESSAGE = '{MESSAGE} (' || TG_TABLE_NAME || ')';
            END IF;
            RETURN OLD;
        END;
        $$ LANGUAGE plpgsql""",
    *(
        f"""CREATE TRIGGER {table}_retention BEFORE DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION collection_record_retention('{column}')"""
        for table, column in RECORDS
    ),
]
POSTGRES_REVERSE = [
    *(f"DROP TRIGGER IF EXISTS {table}_retention ON {table}" for table, _ in RECORDS),
    "DROP FUNCTION IF EXISTS collection_record_retention()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_initial"),
        ("contact", "0004_outbox"),
        ("visits", "0001_initial"),
        ("complaints", "0001_initial"),
        ("arrangements", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
