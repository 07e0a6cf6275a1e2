"""The chain: appends verify; every kind of tampering is named at its first bad entry; the
database refuses edits and deletions; anchors catch a rewrite of the whole chain."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from doorstep.audit.chain import GENESIS, entry_hash
from doorstep.audit.domain import anchor, record, verify
from doorstep.audit.errors import AuditError
from doorstep.audit.models import AuditAnchor, AuditEntry, AuditHead
from tests.audit.dba import tamper, triggers_lifted

T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
CODES = ["payment.posted", "hold.placed", "contact.recorded", "payment.reversed", "hold.placed"]


def chain(n: int = 5) -> list[AuditEntry]:
    return [
        record(
            CODES[i % len(CODES)],
            actor="teller",
            obj_type="ledger.account",
            obj_id=f"A{i:04}",
            data={"amount_cents": 100 * (i + 1), "note": "还款", "on": T0.date()},
            at=T0 + timedelta(minutes=i),
        )
        for i in range(n)
    ]


def problems() -> list[tuple[int, str, str]]:
    return [(p.seq, p.code, p.kind) for p in verify().problems]


@pytest.mark.django_db
def test_entries_chain_from_genesis_and_verify():
    entries = chain(5)

    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    first = AuditEntry.objects.get(seq=1)
    assert first.payload == {"amount_cents": 100, "note": "还款", "on": "2026-11-22"}
    assert first.data == '{"amount_cents":100,"note":"还款","on":"2026-11-22"}'
    assert first.hash == entry_hash(
        GENESIS, 1, T0, "teller", "payment.posted", "ledger.account", "A0000", first.data
    )
    assert AuditHead.objects.values_list("seq", "hash").get() == (5, entries[-1].hash)
    result = verify()
    assert (result.ok, result.entries, result.head_seq, result.head_hash) == (
        True, 5, 5, entries[-1].hash,
    )  # fmt: skip


@pytest.mark.django_db
def test_an_empty_chain_verifies():
    result = verify()
    assert (result.ok, result.entries, result.head_hash) == (True, 0, GENESIS)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"code": "posted", "actor": "x"}, "audit.code"),
        ({"code": "payment.posted", "actor": ""}, "audit.actor"),
        ({"code": "payment.posted", "actor": "x", "at": datetime(2026, 1, 1)}, "audit.naive_time"),
        ({"code": "payment.posted", "actor": "x", "data": {"x": float("nan")}}, "audit.data"),
        ({"code": "payment.posted", "actor": "x", "data": {"x": object()}}, "audit.data"),
    ],
)
def test_malformed_entries_are_refused(kwargs, code):
    code_, rest = kwargs.pop("code"), kwargs
    with pytest.raises(AuditError) as refused:
        record(code_, **rest)

    assert refused.value.code == code
    assert AuditEntry.objects.count() == 0


# --- the database refuses --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditentry SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM audit_auditentry WHERE seq = 2",
        "UPDATE audit_auditanchor SET seq = 1",
        "DELETE FROM audit_auditanchor",
    ],
)
def test_the_database_refuses_to_edit_or_delete(sql):
    chain(3)
    anchor(by="ops")

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    assert AuditEntry.objects.filter(actor="teller").count() == 3
    assert AuditAnchor.objects.count() == 1
    assert verify().ok


@pytest.mark.django_db
def test_querysets_and_models_cannot_edit_or_delete_entries():
    chain(3)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(seq=1).update(actor="mallory")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(seq=3).delete()
    entry = AuditEntry.objects.get(seq=2)
    entry.actor = "mallory"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()

    assert list(AuditEntry.objects.values_list("actor", flat=True)) == ["teller"] * 3


@pytest.mark.django_db
def test_postgresql_refuses_truncate():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    chain(2)

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_auditentry")

    assert AuditEntry.objects.count() == 2


# --- tampering (with the triggers lifted, as a DBA could) --------------------------------------


@pytest.mark.django_db
def test_an_edited_field_is_named():
    chain(5)
    tamper("UPDATE audit_auditentry SET data = %s WHERE seq = 3", ['{"amount_cents":1}'])

    result = verify()

    assert not result.ok
    assert (result.first.seq, result.first.code, result.first.kind) == (
        3, "contact.recorded", "hash",
    )  # fmt: skip
    assert "entry 3 (contact.recorded) does not match its hash" in result.first.message
    assert len(result.problems) == 1


@pytest.mark.django_db
def test_an_edit_with_its_hash_recomputed_is_named():
    entries = chain(5)
    e = entries[1]
    forged = entry_hash(e.prev_hash, 2, e.at, "mallory", e.code, e.obj_type, e.obj_id, e.data)
    tamper("UPDATE audit_auditentry SET actor = 'mallory', hash = %s WHERE seq = 2", [forged])

    assert problems() == [(2, "hold.placed", "link")]
    assert "entry 2 (hold.placed) was rewritten" in verify().first.message


@pytest.mark.django_db
def test_a_deleted_entry_is_named():
    chain(5)
    tamper("DELETE FROM audit_auditentry WHERE seq = 3")

    result = verify()

    assert problems() == [(3, "", "gap")]
    assert result.first.message == (
        "entry 3 missing: seq jumps from 2 to entry 4 (payment.reversed)"
    )


@pytest.mark.django_db
def test_two_swapped_entries_are_named():
    chain(5)
    tamper("UPDATE audit_auditentry SET seq = 1000 WHERE seq = 2")
    tamper("UPDATE audit_auditentry SET seq = 2 WHERE seq = 4")
    tamper("UPDATE audit_auditentry SET seq = 4 WHERE seq = 1000")

    # Entry 2 now holds what was entry 4: neither its hash nor its links hold; same for 4.
    assert problems()[0] == (2, "payment.reversed", "link")
    assert {p[0] for p in problems()} == {2, 4}


@pytest.mark.django_db
def test_a_truncated_tail_is_named_by_the_head():
    chain(5)
    tamper("DELETE FROM audit_auditentry WHERE seq >= 4")

    result = verify()

    assert problems() == [(4, "", "head")]
    assert (
        result.first.message == "the head is at 5 but the chain ends at 3: entries 4–5 were removed"
    )


@pytest.mark.django_db
def test_a_truncated_tail_with_the_head_and_anchor_table_rewritten_is_caught_by_the_file(
    anchor_file,
):
    entries = chain(6)
    anchor(by="ops")
    tamper("DELETE FROM audit_auditentry WHERE seq >= 5")
    tamper("DELETE FROM audit_auditanchor")
    AuditHead.objects.filter(pk=1).update(seq=4, hash=entries[3].hash)

    result = verify()

    assert problems() == [(5, "", "anchor")]
    assert result.first.message == (
        "the chain ends at 4 but the anchor of "
        f"{json.loads(anchor_file.read_text())['at']} (anchors.jsonl line 1) names entry 6: "
        "entries 5–6 were removed"
    )


@pytest.mark.django_db
def test_a_rewritten_chain_passes_on_its_own_but_not_against_the_anchor_file(anchor_file):
    chain(6)
    anchor(by="ops")
    # Rewrite entry 2 and re-chain everything after it, head and anchor table included.
    tamper("UPDATE audit_auditentry SET actor = 'mallory' WHERE seq = 2")
    tamper("DELETE FROM audit_auditanchor")
    _rechain_from(2)

    assert problems() == [(6, "payment.posted", "anchor")]
    assert "entry 6 (payment.posted) is not the entry in the anchor of" in verify().first.message
    anchor_file.unlink()
    assert verify().ok  # which is why the anchor file must be kept out of the attacker's reach


def _rechain_from(start: int) -> None:
    with triggers_lifted(), connection.cursor() as cursor:
        prev = AuditEntry.objects.get(seq=start - 1).hash
        for e in AuditEntry.objects.filter(seq__gte=start).order_by("seq"):
            digest = entry_hash(prev, e.seq, e.at, e.actor, e.code, e.obj_type, e.obj_id, e.data)
            cursor.execute(
                "UPDATE audit_auditentry SET prev_hash = %s, hash = %s WHERE seq = %s",
                [prev, digest, e.seq],
            )
            prev = digest
    AuditHead.objects.filter(pk=1).update(hash=prev)


# --- the commands --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_verify_command_reports_an_intact_chain_as_json(capsys):
    entries = chain(3)

    call_command("audit", "verify", "--json")

    out = json.loads(capsys.readouterr().out)
    assert (out["ok"], out["entries"], out["head_seq"], out["head_hash"]) == (
        True, 3, 3, entries[-1].hash,
    )  # fmt: skip
    assert (out["problems"], out["first_problem"]) == ([], None)


@pytest.mark.django_db
def test_verify_command_fails_naming_the_first_bad_entry(capsys):
    chain(5)
    tamper("UPDATE audit_auditentry SET actor = 'mallory' WHERE seq = 4")

    with pytest.raises(CommandError, match=r"broken at seq 4 \(payment.reversed\)") as failed:
        call_command("audit", "verify", "--json")

    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    assert out["first_problem"]["seq"] == 4
    assert out["first_problem"]["code"] == "payment.reversed"
    assert failed.value.returncode == 1


@pytest.mark.django_db
def test_anchor_command_writes_the_table_and_the_file(anchor_file, capsys):
    entries = chain(2)

    call_command("audit", "anchor", "--by", "ops")

    row = AuditAnchor.objects.get()
    assert (row.seq, row.hash, row.by) == (2, entries[-1].hash, "ops")
    line = json.loads(anchor_file.read_text())
    assert (line["seq"], line["hash"], line["by"]) == (2, entries[-1].hash, "ops")
    assert verify().anchors_checked == 1


@pytest.mark.django_db
def test_anchor_command_refuses_a_broken_chain(anchor_file):
    chain(3)
    tamper("DELETE FROM audit_auditentry WHERE seq = 2")

    with pytest.raises(CommandError, match="not anchoring a broken chain"):
        call_command("audit", "anchor")

    assert AuditAnchor.objects.count() == 0
    assert not anchor_file.exists()


def test_the_hash_input_is_the_json_array_of_the_fields():
    import hashlib

    at = datetime(2026, 11, 22, 4, 0, 0, 7, tzinfo=UTC)
    data = '{"note":"还款 \\"quoted\\"\\n","x":1}'
    fields = [12, "2026-11-22T04:00:00.000007Z", "张三", "payment.posted", "", "A\\1", data]
    expected = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)

    digest = entry_hash("ab" * 32, 12, at, "张三", "payment.posted", "", "A\\1", data)

    assert digest == hashlib.sha256(f"{'ab' * 32}\n{expected}".encode()).hexdigest()
