"""The nightly run killed with SIGKILL at random points, several times, then run to its end: the
decisions, planned actions, visit proposals, the guard's refusals and the nightly audit entry are
identical to those of one clean run on an identical copy of the database.

A few thousand generated accounts (DOORSTEP_KILL_ACCOUNTS, 3,000), DOORSTEP_KILLS kills (6), each
a uniform random delay after the run has registered itself, up to the clean run's duration. The
seed (DOORSTEP_KILL_SEED; a new one each run otherwise) and every kill point are printed in a
failure's message. On SQLite each database is a file under the test's own DOORSTEP_VAR_DIR; on
PostgreSQL (DATABASE_URL) each is a database of its own, dropped afterwards. Slow (a minute or
two): `make failure-tests` runs it (docs/operations.md).
"""

import itertools
import json
import os
import random
import re
import time

import pytest

from tests.failure import harness

AS_OF = "2026-11-20"
CLOCK = "2026-11-21T00:30:00+08:00"  # half past midnight after the as-of day, in Shanghai
ACCOUNTS = int(os.environ.get("DOORSTEP_KILL_ACCOUNTS", "3000"))
KILLS = int(os.environ.get("DOORSTEP_KILLS", "6"))
# The phases strategy.domain logs the end of, in order ("score" only when a model is active).
PHASES = ("arrangements", "placements", "snapshot", "features", "score", "decisions", "plan",
          "write", "arrangement reminders", "screen", "visits", "digest")  # fmt: skip

pytestmark = [pytest.mark.failure, pytest.mark.slow]


def engines():
    return ["duckdb", "postgres"] if harness.on_postgres() else ["duckdb"]


@pytest.fixture
def databases(tmp_path):
    found = harness.Databases(tmp_path)
    yield found
    found.drop_all()


@pytest.fixture
def seed():
    return int(os.environ.get("DOORSTEP_KILL_SEED") or random.SystemRandom().randrange(2**32))


def env(databases, name: str, var) -> dict[str, str]:
    return {"DATABASE_URL": databases.url(name), "DOORSTEP_VAR_DIR": str(var),
            "DOORSTEP_TEST_CLOCK": CLOCK, "DOORSTEP_LOG_LEVEL": "INFO"}  # fmt: skip


def runs_of(db) -> list[str]:
    rows = harness.query(db, "SELECT status FROM strategy_nightlyrun ORDER BY id")
    return [status for (status,) in rows]


def killed_in(log_text: str, engine: str) -> str:
    """The phase a killed run was in: the one after the last that logged its end (the postgres
    engine reads no snapshot: it works in place)."""
    done = re.findall(r"^nightly (.+?): [\d.]+ s$", log_text, flags=re.MULTILINE)
    phases = [p for p in PHASES if (engine == "duckdb" or p != "snapshot")
              and (p != "score" or "score" in done)]  # fmt: skip
    if not done:
        return phases[0]
    assert done[-1] in phases, f"phase {done[-1]!r} is not in PHASES: add it there"
    after = phases.index(done[-1]) + 1
    return phases[after] if after < len(phases) else "audit entry"


def state(db) -> dict[str, object]:
    """What a night leaves, without the ids and times of the runs that wrote it."""
    q = lambda sql: harness.query(db, sql)  # noqa: E731
    nightly = q("SELECT data FROM audit_auditentry WHERE code = 'nightly.completed' ORDER BY seq")
    return {
        "decisions": q(
            "SELECT account_id, as_of, stage, previous_stage, triggers, blocked_by, reasons_en, "
            "reasons_zh, arm, dpd, overdue_cents, outstanding_cents, strategy_id, engine, "
            "model_id, risk_score, risk_band FROM strategy_decision ORDER BY account_id, as_of"
        ),
        "actions": q(
            "SELECT account_id, as_of, stage, kind, channel, template, status, cancelled_reason, "
            "refused_rule FROM strategy_plannedaction "
            "ORDER BY account_id, as_of, kind, channel, template"
        ),
        "visits": q(
            "SELECT account_id, state, proposed_on, dpd, overdue_cents, priority, reasons "
            "FROM visits_visit ORDER BY account_id, proposed_on"
        ),
        "refusals": q(
            "SELECT account_id, channel, purpose, template, planned_at, rule_id FROM "
            "compliance_refusal ORDER BY account_id, channel, planned_at, rule_id"
        ),
        "visits' decisions": q(
            "SELECT v.account_id, d.as_of, d.stage FROM visits_visit v "
            "LEFT JOIN strategy_decision d ON d.id = v.decision_id ORDER BY v.account_id"
        ),
        "nightly audit entry": the_night(json.loads(nightly[-1][0])),
    }


# What the entry counts of the completing run's own doing (docs/operations.md): the rest tells
# the night, whichever run did its work.
OWN_DOING = ("arrangements", "placements_ended", "abandoned")


def the_night(entry: dict) -> dict:
    night = {k: v for k, v in entry.items() if k not in OWN_DOING}
    night["visits"] = {"proposed": entry["visits"]["proposed"]}
    return night


def differences(clean: dict, killed: dict) -> list[str]:
    found = []
    for key, value in clean.items():
        other = killed[key]
        if value == other:
            continue
        if isinstance(value, list):
            a, b = set(value), set(other)
            found.append(f"{key}: {len(value)} rows clean, {len(other)} after the kills; only "
                         f"clean {sorted(a - b)[:3]}, only killed {sorted(b - a)[:3]}")  # fmt: skip
        else:
            found.append(f"{key}: clean {value}\n  after the kills {other}")
    return found


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_a_nightly_run_killed_at_random_points_converges_to_a_clean_run(
    tmp_path, databases, seed, engine
):
    if engine not in engines():
        pytest.skip("the postgres engine runs in place on PostgreSQL only")
    var = tmp_path / "var"
    var.mkdir()
    databases.create("base")
    harness.run(["prepare", str(tmp_path / "portfolio"), str(ACCOUNTS), "7", AS_OF],
                env=env(databases, "base", var), log=tmp_path / "prepare.log")  # fmt: skip
    databases.copy("base", "clean")
    databases.copy("base", "killed")
    nightly = ["doorstep", "nightly", "--as-of", AS_OF, "--engine", engine, "--by", "failure"]

    started = time.monotonic()
    harness.run(nightly, env=env(databases, "clean", var), log=tmp_path / "clean.log")
    with databases.connect("clean") as db:
        (run_seconds,) = harness.query(db, "SELECT seconds FROM strategy_nightlyrun")[0]

    rng = random.Random(seed)
    kills = []
    with databases.connect("killed") as db:
        for attempt in range(KILLS):
            log = tmp_path / f"killed-{attempt}.log"
            process = harness.spawn(nightly, env=env(databases, "killed", var), log=log)
            harness.wait_for(
                lambda n=attempt + 1: len(runs_of(db)) >= n,
                what=f"run {attempt + 1} registering itself",
                seconds=120,
                process=process,
                log=log,
            )
            delay = rng.uniform(0, run_seconds)
            time.sleep(delay)  # the kill point itself, not a wait for something
            if process.poll() is None:
                harness.kill(process)
                kills.append((round(delay, 3), killed_in(log.read_text(errors="replace"), engine)))
            else:
                kills.append((round(delay, 3), "had finished"))
        harness.run(nightly, env=env(databases, "killed", var), log=tmp_path / "rerun.log")
        runs = runs_of(db)
    with databases.connect("clean") as clean_db, databases.connect("killed") as killed_db:
        clean, killed = state(clean_db), state(killed_db)
        (entry,) = harness.query(killed_db, "SELECT data FROM audit_auditentry WHERE code = "
                                 "'nightly.completed' ORDER BY seq DESC LIMIT 1")  # fmt: skip
    harness.run(["doorstep", "audit", "verify"], env=env(databases, "killed", var),
                log=tmp_path / "verify.log")  # fmt: skip

    figures = (f"seed {seed}, engine {engine}, {ACCOUNTS} accounts, clean run {run_seconds:.2f} s, "
               f"kills (delay s, phase): {kills}; {time.monotonic() - started:.0f} s in all")  # fmt: skip
    print(figures)
    found = differences(clean, killed)
    assert not found, figures + "\n" + "\n".join(found)
    assert len(runs) == KILLS + 1, (figures, runs)
    assert runs[-1] == "done", (figures, runs)
    assert "running" not in runs, (figures, runs)
    died_since_done = len(list(itertools.takewhile(lambda r: r == "abandoned", runs[-2::-1])))
    assert json.loads(entry[0])["abandoned"] == died_since_done, (figures, runs)
    assert clean["decisions"], "the night decided nothing: a vacuous test"
    assert clean["actions"], "the night planned nothing: a vacuous test"
