"""bench nightly at a few hundred accounts: it runs, caches the loaded database, and on its data
the nightly SQL, the Python twin and (on PostgreSQL) the in-place SQL agree on every account."""

import json
import shutil

import dj_database_url
import pytest
from django.core.management import call_command

from doorstep.benchmarks.ledger import database_marked, postgres_admin, postgres_url
from doorstep.benchmarks.nightly import LOADED

ACCOUNTS = 300
KEYS = {
    "engine", "accounts", "seconds", "accounts_per_s", "single_account_p50_ms",
    "single_account_p99_ms", "single_account_at_rest_p50_ms", "single_account_at_rest_p99_ms",
    "phases", "stages",
}  # fmt: skip


def bench(capsys, *arguments) -> dict:
    call_command("bench", "nightly", "--accounts", str(ACCOUNTS), "--sample", "20", "--json",
                 *arguments)  # fmt: skip
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture
def var_dir(tmp_path, settings, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("DOORSTEP_VAR_DIR", str(tmp_path))
    return tmp_path


def test_duckdb_on_sqlite(var_dir, capsys):
    first = bench(capsys, "--check")
    assert first.keys() >= KEYS
    assert first["engine"] == "duckdb"
    assert first["database_cached"] is False
    assert 0 < first["accounts"] <= ACCOUNTS
    assert sum(first["stages"].values()) == first["accounts"]
    assert first["mismatches"]["accounts_compared"] == first["accounts"]
    assert first["mismatches"]["python"] == 0, first["mismatches"]["examples"]
    # Where the screen phase goes, step by step.
    assert first["screen_steps"].keys() == {"read planned", "read context", "check", "record"}

    again = bench(capsys)
    assert again["database_cached"] is True
    assert again["stages"] == first["stages"]
    assert list(var_dir.glob("bench/nightly-run-*")) == []

    # Over a Parquet snapshot written first (what --engine spark reads): the same night.
    over_parquet = bench(capsys, "--parquet")
    assert over_parquet["stages"] == first["stages"]
    assert over_parquet["snapshot_seconds"] > 0
    assert list(var_dir.glob("bench/snapshot-*")) == []

    # In place: the same night on the cached database itself, which then goes (the night changed
    # it); the next run loads again.
    in_place = bench(capsys, "--in-place")
    assert (in_place["in_place"], in_place["database_cached"]) == (True, True)
    assert in_place["stages"] == first["stages"]
    assert list(var_dir.glob("bench/nightly-*.sqlite3*")) == []
    assert bench(capsys)["database_cached"] is False


def test_in_place_from_parquet_files_unvacuumed_and_kept(var_dir, capsys):
    """The 10M run's options (docs/scaling.md): a Parquet portfolio, no VACUUM after the import,
    the night in place and its database kept, not marked loaded."""
    kept = bench(capsys, "--in-place", "--keep", "--format", "parquet", "--no-vacuum")
    assert (kept["in_place"], kept["database_cached"]) == (True, False)
    assert [p.name for p in var_dir.glob("bench/ledger-*")] == [f"ledger-{ACCOUNTS}-7-parquet"]
    assert list(var_dir.glob("bench/ledger-*/*.parquet"))
    assert [p.name for p in var_dir.glob("bench/nightly-*.sqlite3")] == [
        f"nightly-{ACCOUNTS}-7.sqlite3"
    ]
    assert list(var_dir.glob("bench/nightly-*.complete")) == []
    # Kept but not loaded: the next run imports again, from the files already generated.
    again = bench(capsys, "--format", "parquet")
    assert again["database_cached"] is False
    assert again["stages"] == kept["stages"]
    # A loaded database needs no portfolio files: they are not generated again.
    shutil.rmtree(var_dir / "bench" / f"ledger-{ACCOUNTS}-7-parquet")
    assert bench(capsys, "--format", "parquet")["database_cached"] is True
    assert list(var_dir.glob("bench/ledger-*")) == []


@pytest.mark.skipif(postgres_url() is None, reason="DATABASE_URL does not name PostgreSQL")
def test_postgres_in_place(var_dir, capsys):
    cached = f"{dj_database_url.parse(postgres_url())['NAME']}_bench_nightly_{ACCOUNTS}_11"
    try:
        figures = bench(capsys, "--engine", "postgres", "--seed", "11", "--reload", "--check")
        # On the cached database itself, not a copy (the 10M run's way: the copy would not fit),
        # kept afterwards but no longer marked loaded.
        kept = bench(capsys, "--engine", "postgres", "--seed", "11", "--in-place", "--keep")
        with postgres_admin(postgres_url()) as admin:
            exists = admin.execute(
                "SELECT COUNT(*) FROM pg_database WHERE datname = %s", [cached]
            ).fetchone()[0]
            marked = database_marked(admin, cached, LOADED)
    finally:
        with postgres_admin(postgres_url()) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{cached}" WITH (FORCE)')
    assert figures["engine"] == "postgres"
    assert figures["mismatches"]["python"] == 0, figures["mismatches"]["examples"]
    assert figures["mismatches"]["postgres"] == 0, figures["mismatches"]["examples"]
    assert (kept["in_place"], kept["database_cached"]) == (True, True)
    assert kept["stages"] == figures["stages"]
    assert (exists, marked) == (1, False)
