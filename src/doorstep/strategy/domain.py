"""Write operations of the strategy: publish a version, run the night, re-evaluate one account.

The nightly run is set-based end to end: the snapshot streams out as Arrow (or stays in place on
PostgreSQL), one SQL statement computes every account's features and decision, and the decisions
and the actions they plan are written in bulk in one transaction, replacing any earlier run for the
same date. A run killed half-way leaves the previous state untouched; re-running converges.
"""

import difflib
import hashlib
import logging
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.utils import timezone

from doorstep.arrangements.domain import (
    close_on_settlement,
    reminders_due,
    review_arrangements,
)
from doorstep.arrowdb import adbc_connect
from doorstep.audit.domain import record
from doorstep.contact.domain import record_contact
from doorstep.ledger.domain import PostedPayment, local_date, place_hold, post_payment
from doorstep.ledger.enums import AccountStatus
from doorstep.ledger.models import Account
from doorstep.ledger.queries import locked_account
from doorstep.placements.domain import SETTLED, end_placement, end_settled_placements
from doorstep.scoring.domain import active_model, scores_table
from doorstep.scoring.engine.features import INPUTS as SCORE_INPUTS
from doorstep.strategy import queries, snapshot
from doorstep.strategy.engine.actions import actions_sql, due_actions, priority_of
from doorstep.strategy.engine.decide import decide, decisions_sql
from doorstep.strategy.engine.document import Strategy, load_strategy
from doorstep.strategy.engine.featuresql import features_sql
from doorstep.strategy.enums import (
    DECISION_NOTICES,
    ActionKind,
    ActionStatus,
    Engine,
    RunStatus,
    Stage,
)
from doorstep.strategy.models import Decision, NightlyRun, PlannedAction, StrategyVersion
from doorstep.strategy.screening import screen_planned_actions
from doorstep.strategy.sending import tell_decision
from doorstep.timing import timed
from doorstep.visits.domain import Proposal, cancel_open_visits, propose_visits
from doorstep.visits.enums import BEFORE_CHECK_IN, OPEN_STATES, CancelReason
from doorstep.visits.models import Visit

DEFAULT_STRATEGY = Path(__file__).with_name("default.yaml")

log = logging.getLogger(__name__)
T = TypeVar("T")


def _phase(name: str):
    """Log how long a phase of the nightly run took (`extra` carries phase and seconds)."""
    return timed(log, f"nightly {name}", phase=name)


def publish_strategy(text: str, *, by: str, note: str = "", at: datetime | None = None):
    """Validate a document and store it as the next version of its name (a no-op when it equals
    the newest). Raises StrategyInvalid with every error. Side effects: a StrategyVersion row and
    an audit entry (strategy.published)."""
    strategy = load_strategy(text)
    name = strategy.document.name
    with transaction.atomic():
        latest = (
            StrategyVersion.objects.select_for_update()
            .filter(name=name)
            .order_by("-version")
            .first()
        )
        if latest is not None and latest.document == text:
            return latest
        previous = latest.document if latest else ""
        diff = "".join(
            difflib.unified_diff(
                previous.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{name}@{latest.version}" if latest else "(none)",
                tofile=f"{name}@{(latest.version if latest else 0) + 1}",
            )
        )
        created = StrategyVersion.objects.create(
            name=name,
            version=(latest.version if latest else 0) + 1,
            document=text,
            diff=diff,
            author=by,
            note=note,
            created_at=at or timezone.now(),
        )
        record(
            "strategy.published",
            actor=by,
            obj=created,
            at=created.created_at,
            data={
                "name": name,
                "version": created.version,
                "note": note,
                "document_sha256": hashlib.sha256(text.encode()).hexdigest(),
            },
        )
        return created


def active_version() -> StrategyVersion:
    """The newest version of the configured strategy; the shipped default on first use."""
    name = settings.DOORSTEP_STRATEGY
    version = StrategyVersion.objects.filter(name=name).order_by("-version").first()
    if version is None:
        version = publish_strategy(
            DEFAULT_STRATEGY.read_text(), by="system", note="shipped default"
        )
    return version


def compiled(version: StrategyVersion) -> Strategy:
    """The parsed and checked strategy of a version, compiled once per process: parsing YAML and
    every rule with sqlglot took three quarters of a real-time re-evaluation."""
    return _compile(version.document)


@lru_cache(maxsize=32)
def _compile(document: str) -> Strategy:
    return load_strategy(document)


@dataclass
class NightlyResult:
    as_of: date
    engine: str
    strategy: str
    accounts: int
    actions: int
    seconds: float
    stages: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None
    dry_run: bool = False


DECISION_COLUMNS = (
    "account_id, as_of, stage, previous_stage, triggers, blocked_by, reasons_en, reasons_zh, arm, "
    "dpd, overdue_cents, outstanding_cents, strategy_id, run_id, engine, model_id, risk_score, "
    "risk_band"
)


def _decision_select(as_of: date, version_id: int, run_id: int, engine: str, source: str) -> str:
    return f"""
SELECT account_id, DATE '{as_of.isoformat()}' AS as_of, stage, previous_stage, triggers,
       blocked_by, reasons_en, reasons_zh, arm, CAST(dpd AS INTEGER) AS dpd,
       CAST(overdue_cents AS BIGINT) AS overdue_cents,
       CAST(outstanding_cents AS BIGINT) AS outstanding_cents,
       CAST({version_id} AS BIGINT) AS strategy_id, CAST({run_id} AS BIGINT) AS run_id,
       '{engine}' AS engine, CAST({_model_id()} AS BIGINT) AS model_id,
       CAST(risk_score AS DOUBLE PRECISION) AS risk_score, risk_band
FROM {source}"""


def _action_select(as_of: date, run_id: int, source: str) -> str:
    return f"""
SELECT account_id, DATE '{as_of.isoformat()}' AS as_of, stage, kind, channel, template,
       'planned' AS status, '' AS cancelled_reason, CAST({run_id} AS BIGINT) AS run_id,
       CAST(priority AS BIGINT) AS priority
FROM {source}"""


def run_nightly(
    as_of: date,
    *,
    engine: str = Engine.DUCKDB,
    by: str,
    version: StrategyVersion | None = None,
    dry_run: bool = False,
    snapshot_dir: Path | None = None,
    spark_master: str | None = None,
    fail_after_writing_decisions: bool = False,
) -> NightlyResult:
    """Decide every account's stage as of `as_of` and plan the actions due.

    `snapshot_dir`: read a Parquet snapshot (`take_snapshot`) instead of the database; the spark
    engine needs one, DuckDB may use one. `spark_master`: where Spark runs (default: settings).
    Side effects (not on a dry run): the decisions and planned actions of `as_of` replaced;
    planned actions of earlier days cancelled where the account's stage changed; a NightlyRun row
    (earlier runs of the date left running by a killed process marked abandoned); one audit entry
    (nightly.completed) with the counts and a digest of the date's decisions. Of its counts,
    stages, actions, the decisions' digest, `refused` (the date's actions refused at screening)
    and `visits.proposed` (visits proposed on the date) describe the night, whichever run did the
    work; `arrangements`, `placements_ended` and `visits.cancelled` count what this run itself did,
    and `abandoned` how many runs of the date died since its last completed one
    (docs/operations.md).
    `fail_after_writing_decisions` exists for the test of a run killed half-way.
    """
    version = version or active_version()
    strategy = compiled(version)
    if engine == Engine.POSTGRES and connection.vendor != "postgresql":
        raise ValueError("the postgres engine runs in place: DATABASE_URL must name PostgreSQL")
    if engine == Engine.POSTGRES and snapshot_dir is not None:
        raise ValueError("the postgres engine runs in place and reads no snapshot")
    if engine == Engine.SPARK and snapshot_dir is None:
        raise ValueError(
            "the spark engine reads a Parquet snapshot: write one with `doorstep snapshot "
            "--as-of DATE --out DIR` and pass --snapshot DIR"
        )
    source = None
    if snapshot_dir is not None:
        source = snapshot.open_parquet_snapshot(snapshot_dir, as_of=as_of)
    started = time.perf_counter()
    run = None
    abandoned = 0
    if not dry_run:
        NightlyRun.objects.filter(as_of=as_of, status=RunStatus.RUNNING).update(
            status=RunStatus.ABANDONED
        )
        runs = NightlyRun.objects.filter(as_of=as_of)
        last_done = runs.filter(status=RunStatus.DONE).aggregate(pk=Max("pk"))["pk"] or 0
        abandoned = runs.filter(status=RunStatus.ABANDONED, pk__gt=last_done).count()
        run = NightlyRun.objects.create(
            as_of=as_of, engine=engine, strategy=version, started_at=timezone.now(), started_by=by
        )
    run_id = run.pk if run else 0
    arrangements, placements_ended = {}, 0
    if not dry_run:
        # Before the snapshot: a broken arrangement's hold closes, so tonight's decision escalates.
        with _phase("arrangements"):
            arrangements = review_arrangements(as_of, by=by, at=timezone.now())
        with _phase("placements"):
            placements_ended = end_settled_placements(by=by, at=timezone.now())
        if source is not None and (arrangements["broken"] or arrangements["completed"]):
            # The snapshot still holds those arrangements' holds: its decisions would keep them.
            NightlyRun.objects.filter(pk=run.pk).update(status=RunStatus.ABANDONED)
            raise snapshot.SnapshotInvalid(
                f"arrangements ended after the snapshot in {source.directory} was written "
                f"({arrangements['broken']} broken, {arrangements['completed']} completed): "
                "write it again",
                code="snapshot.stale",
            )
    work = (as_of, strategy, version.pk, run_id, dry_run, fail_after_writing_decisions)
    if engine == Engine.POSTGRES:
        accounts, actions, stages = _run_in_postgres(*work)
    elif engine == Engine.SPARK:
        accounts, actions, stages = _run_in_spark(*work, source, spark_master)
    else:
        accounts, actions, stages = _run_in_duckdb(*work, source)
    refused = {}
    visits = {}
    if not dry_run:
        with _phase("arrangement reminders"):
            plan_arrangement_reminders(as_of, run_id=run_id or None)
        with _phase("screen"):
            refused = screen_planned_actions(as_of, by=by)
        with _phase("visits"):
            visits = sync_visits(as_of, by=by)
    if run is not None:
        # Timed with the night: at a million decisions it is seconds, not nothing.
        with _phase("digest"):
            rows, digest = queries.decisions_digest(as_of)
    seconds = time.perf_counter() - started
    if run is not None:
        # What the night left rather than what this process did: after a run killed half-way,
        # the re-run that completes the night finds the screening or the proposals already done,
        # and its entry still tells the date's refusals and proposals (tests/failure).
        refused = night_refusals(as_of)
        visits["proposed"] = Visit.objects.filter(proposed_on=as_of).count()
        with transaction.atomic():
            NightlyRun.objects.filter(pk=run.pk).update(
                status=RunStatus.DONE,
                finished_at=timezone.now(),
                accounts=accounts,
                actions=actions,
                seconds=round(seconds, 3),
            )
            record(
                "nightly.completed",
                actor=by,
                obj=run,
                data={
                    "as_of": as_of,
                    "engine": engine,
                    "strategy": version.label,
                    "accounts": accounts,
                    "actions": actions,
                    "stages": stages,
                    "refused": refused,
                    "visits": visits,
                    "arrangements": arrangements,
                    "placements_ended": placements_ended,
                    "abandoned": abandoned,
                    "decisions": {"rows": rows, "sha256": digest},
                    # Which snapshot the night read, when it read one.
                    **({"snapshot": source.described()} if source is not None else {}),
                },
            )
    return NightlyResult(
        as_of,
        engine,
        version.label,
        accounts,
        actions,
        round(seconds, 3),
        stages,
        run_id or None,
        dry_run,
    )


def night_refusals(as_of: date) -> dict[str, int]:
    """The date's planned actions the guard refused at screening, by rule."""
    rows = (
        PlannedAction.objects.filter(as_of=as_of, status=ActionStatus.REFUSED)
        .values_list("refused_rule")
        .annotate(n=Count("id"))
        .order_by("refused_rule")
    )
    return dict(rows)


def take_snapshot(as_of: date, *, out: Path, by: str) -> snapshot.ParquetSnapshot:
    """Write the Parquet snapshot the nightly run of `as_of` reads (`run_nightly(snapshot_dir=)`).

    Side effects: the arrangements are reviewed first, as the night does before reading its
    snapshot (a broken one closes its hold, with its audit entries; see review_arrangements);
    the files and the manifest under `out`.
    """
    review_arrangements(as_of, by=by, at=timezone.now())
    return snapshot.write_parquet_snapshot(as_of, out, at=timezone.now())


def plan_arrangement_reminders(as_of: date, *, run_id: int | None) -> int:
    """An arrangement's own reminder (the `arrangement` stage plans nothing else): an SMS the day
    before a payment's date minus DOORSTEP_ARRANGEMENTS["reminder_days"], for accounts decided
    into that stage tonight. Screened and sent like every planned message."""
    days = settings.DOORSTEP_ARRANGEMENTS["reminder_days"]
    due = set(reminders_due(as_of, days_ahead=days))
    in_stage = Decision.objects.filter(
        as_of=as_of, stage=Stage.ARRANGEMENT, account_id__in=due
    ).values_list("account_id", flat=True)
    created = PlannedAction.objects.bulk_create(
        [
            PlannedAction(
                account_id=account_id,
                as_of=as_of,
                stage=Stage.ARRANGEMENT,
                kind=ActionKind.MESSAGE,
                channel="sms",
                template="arrangement_reminder",
                run_id=run_id,
            )
            for account_id in in_stage
        ],
        ignore_conflicts=True,
    )
    return len(created)


def _visit_cancel_reason(stage: str, overdue_cents: int) -> str:
    if stage == Stage.SUSPENDED:
        return CancelReason.HOLD
    if stage == Stage.NONE or not overdue_cents:
        return CancelReason.SETTLED
    return CancelReason.STAGE_CHANGED


# What a visit proposal takes of its decision.
PROPOSAL_FIELDS = (
    "pk",
    "account_id",
    "triggers",
    "reasons_en",
    "reasons_zh",
    "dpd",
    "overdue_cents",
)


def _proposal(decision: Decision) -> Proposal:
    return _proposal_of(**{name: getattr(decision, name) for name in PROPOSAL_FIELDS})


def _proposal_of(*, pk, account_id, triggers, reasons_en, reasons_zh, dpd, overdue_cents):
    return Proposal(
        account_id=account_id,
        decision_id=pk,
        reasons={
            "rules": triggers.split(",") if triggers else [],
            "en": reasons_en,
            "zh": reasons_zh,
        },
        dpd=dpd,
        overdue_cents=overdue_cents,
    )


def sync_visits(as_of: date, *, by: str) -> dict[str, int]:
    """After a night's decisions: propose a visit for each account newly in the home_visit stage
    (with the decision's reasons), and cancel the visits not yet checked in of accounts that left
    it (paid off, suspended by a hold, or no longer qualifying)."""
    at = timezone.now()
    # A re-run of the date replaced its decisions (new rows): the date's proposals made by an
    # earlier run, killed or not, point at the decisions that replaced theirs.
    Visit.objects.filter(proposed_on=as_of).update(
        decision_id=Subquery(
            Decision.objects.filter(account_id=OuterRef("account_id"), as_of=as_of).values("pk")[:1]
        )
    )
    open_accounts = Visit.objects.filter(state__in=BEFORE_CHECK_IN).values("account_id")
    cancelled = 0
    leaving = Decision.objects.filter(as_of=as_of, account_id__in=open_accounts).exclude(
        stage=Stage.HOME_VISIT
    )
    for decision in leaving.only("account_id", "stage", "overdue_cents"):
        reason = _visit_cancel_reason(decision.stage, decision.overdue_cents)
        with transaction.atomic():
            cancelled += cancel_open_visits(decision.account_id, reason=reason, by=by, at=at)
    entering = (
        Decision.objects.filter(as_of=as_of, stage=Stage.HOME_VISIT)
        .exclude(account__visits__state__in=OPEN_STATES)
        .order_by("account_id")
        .values(*PROPOSAL_FIELDS)  # rows, not 27,000 model instances at a million accounts
    )
    proposed = propose_visits((_proposal_of(**row) for row in entering), as_of=as_of, by=by, at=at)
    return {"proposed": len(proposed), "cancelled": cancelled}


def duckdb_decisions(
    as_of: date, strategy: Strategy, tables: dict[str, pa.Table] | snapshot.ParquetSnapshot
):
    """A DuckDB connection holding `dec` (decisions with features) for the snapshot `tables`:
    Arrow tables read from the database, or a Parquet snapshot (typed already)."""
    db = duckdb.connect()
    db.execute(f"SET threads = {settings.DOORSTEP_DUCKDB_THREADS}")
    if isinstance(tables, snapshot.ParquetSnapshot):
        for name in snapshot.SCHEMA:
            path = str(tables.path(name)).replace("'", "''")
            db.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
        tables = {}
    for name, table in tables.items():
        db.register(f"{name}_raw", table)
        typed = snapshot.TYPED.get(name, "*")
        db.execute(f"CREATE VIEW {name} AS SELECT {typed} FROM {name}_raw")
    with _phase("features"):
        db.execute(f"CREATE TABLE features AS {features_sql(as_of, 'duckdb')}")
    model = active_model()
    if model is not None:
        with _phase("score"):
            inputs = db.sql(f"SELECT account_id, {', '.join(SCORE_INPUTS)} FROM features "
                            f"WHERE {IN_COLLECTIONS}").to_arrow_table()  # fmt: skip
            db.register("scores", scores_table(model, inputs))
            db.execute(_set_scores("features", "scores"))
    with _phase("decisions"):
        db.execute(f"CREATE TABLE dec AS {decisions_sql(strategy, 'features', 'duckdb')}")
    return db


# The accounts the collection score is for: something is overdue (docs/scoring.md).
IN_COLLECTIONS = "dpd > 0"


def _set_scores(features: str, scores: str) -> str:
    """Fill the model features of `features` from a scores relation (scoring.domain.scores_table,
    probabilities as float64 rounded to 6 places, which DECIMAL(9, 6) holds exactly)."""
    columns = ", ".join(
        f"{name} = CAST(s.{name} AS DECIMAL(9, 6))"
        for name in ("risk_score", "p_recover_with_visit", "p_recover_without_visit")
    )
    return (
        f"UPDATE {features} SET {columns}, risk_band = s.risk_band FROM {scores} s "
        f"WHERE {features}.account_id = s.account_id"
    )


def _model_id() -> str:
    model = active_model()
    return str(model.pk) if model is not None else "NULL"


def _run_in_duckdb(as_of, strategy, version_id, run_id, dry_run, fail_half_way, source=None):
    """`source`: a Parquet snapshot to read instead of the database."""
    with _phase("snapshot"):
        tables = source or snapshot.arrow_snapshot(as_of)
    db = duckdb_decisions(as_of, strategy, tables)
    with _phase("plan"):
        stages = dict(db.execute("SELECT stage, COUNT(*) FROM dec GROUP BY stage").fetchall())
        accounts = sum(stages.values())
        plan = actions_sql(strategy, "dec")
        actions = db.execute(f"SELECT COUNT(*) FROM ({plan})").fetchall()[0][0] if plan else 0
    if dry_run:
        return accounts, actions, stages
    with _phase("write"):
        decisions = db.sql(_decision_select(as_of, version_id, run_id, Engine.DUCKDB, "dec"))
        decisions_arrow = decisions.to_arrow_table()
        actions_arrow = (
            db.sql(_action_select(as_of, run_id, f"({plan})")).to_arrow_table() if plan else None
        )
        _write_results(as_of, decisions_arrow, actions_arrow, fail_half_way)
    return accounts, actions, stages


def _write_results(as_of: date, decisions, actions, fail_half_way: bool) -> None:
    """Replace the date's decisions and planned actions in one transaction on an ADBC connection.

    `decisions` and `actions` (None: no action is due) are Arrow tables or record-batch streams
    in the columns of `_decision_select` and `_action_select`. ADBC's bulk ingest is a binary COPY
    on PostgreSQL and prepared multi-row inserts on SQLite.
    """
    with adbc_connect() as adbc, adbc.cursor() as cursor:
        d = _date_param(as_of)
        cursor.execute(f"DELETE FROM strategy_decision WHERE as_of = {d}")
        cursor.adbc_ingest("strategy_decision", decisions, mode="append")
        if fail_half_way:
            raise RuntimeError("killed half-way (test)")
        cursor.execute(
            f"DELETE FROM strategy_plannedaction WHERE as_of = {d} AND status = 'planned'"
            + _NOT_DECISION_NOTICES
        )
        if actions is not None:
            cursor.adbc_ingest("nightly_actions", actions, mode="create", temporary=True)
            cursor.execute(_insert_new_actions("nightly_actions"))
        for statement in _close_earlier_actions(as_of):
            cursor.execute(statement)
        adbc.commit()


def _run_in_spark(as_of, strategy, version_id, run_id, dry_run, fail_half_way, source, master):
    """Features, score, decisions and plan on Spark over the Parquet snapshot `source`; the
    results come back as Parquet files under `source/results/` and are loaded in bulk."""
    from doorstep.strategy import spark

    with _phase("spark session"):
        session = spark.session(master)
    try:
        with _phase("features"):
            spark.features(session, source, features_sql(as_of, "spark"))
        model = active_model()
        if model is not None:
            with _phase("score"):
                spark.score(
                    session, partial(scores_table, model), tuple(SCORE_INPUTS), IN_COLLECTIONS
                )
        with _phase("decisions"):
            spark.decisions(session, decisions_sql(strategy, "features", "duckdb"))
        with _phase("plan"):
            stages = spark.stage_counts(session)
            accounts = sum(stages.values())
            plan = actions_sql(strategy, "dec")
            actions = spark.count(session, plan, ("dec",)) if plan else 0
        if dry_run:
            return accounts, actions, stages
        results = source.directory / "results" / f"{as_of.isoformat()}-run-{run_id}"
        with _phase("results"):
            select = _decision_select(as_of, version_id, run_id, Engine.SPARK, "dec")
            spark.write_parquet(session, select, ("dec",), results / "decisions")
            if plan:
                select = _action_select(as_of, run_id, f"({plan})")
                spark.write_parquet(session, select, ("dec",), results / "actions")
    finally:
        spark.release(session)
    with _phase("write"):
        _write_results(
            as_of,
            _parquet_stream(results / "decisions"),
            _parquet_stream(results / "actions") if plan else None,
            fail_half_way,
        )
    shutil.rmtree(results)
    return accounts, actions, stages


def _parquet_stream(directory: Path) -> pa.RecordBatchReader:
    """Spark's part files as one stream of record batches (its _SUCCESS and .crc files are
    skipped as hidden)."""
    return ds.dataset(directory, format="parquet").scanner(batch_size=65_536).to_reader()


_NOT_DECISION_NOTICES = " AND template NOT IN ({})".format(
    ", ".join(f"'{code}'" for code in DECISION_NOTICES)
)


def _date_param(as_of: date) -> str:
    literal = f"'{as_of.isoformat()}'"
    return f"DATE {literal}" if connection.vendor == "postgresql" else literal


def _insert_new_actions(source: str) -> str:
    """Plan what is not planned yet. ON CONFLICT on action_unique rather than NOT EXISTS: planned
    against a table that was empty when last analysed, PostgreSQL's anti-join re-scanned the rows
    the statement itself inserted, quadratic in the actions (minutes at a million accounts)."""
    columns = (
        "account_id, as_of, stage, kind, channel, template, status, cancelled_reason, run_id, "
        "priority"
    )
    # WHERE TRUE: SQLite's parser needs it between INSERT ... SELECT and ON CONFLICT.
    return f"""
INSERT INTO strategy_plannedaction ({columns})
SELECT {columns} FROM {source} n WHERE TRUE
ON CONFLICT (account_id, as_of, kind, channel, template) DO NOTHING"""


def _cancel_stale_actions(as_of: date) -> str:
    d = _date_param(as_of)
    return f"""
UPDATE strategy_plannedaction SET status = '{ActionStatus.CANCELLED}',
       cancelled_reason = 'stage changed on ' || {d}
WHERE status = '{ActionStatus.PLANNED}' AND as_of < {d}
  AND EXISTS (SELECT 1 FROM strategy_decision dd
              WHERE dd.account_id = strategy_plannedaction.account_id AND dd.as_of = {d}
                AND dd.stage <> strategy_plannedaction.stage)"""


# A call task the night plans for an account replaces the account's earlier open ones: unworked,
# yesterday's daily task would otherwise stay open beside today's (a million a night at 10M
# accounts), and the queue, which shows every open call task, would list the account twice.
SUPERSEDED_CALL_TASKS = f"""
UPDATE strategy_plannedaction SET status = '{ActionStatus.CANCELLED}',
       cancelled_reason = 'replaced by the call task of ' || {{d}}
WHERE kind = '{ActionKind.CALL_TASK}' AND status = '{ActionStatus.PLANNED}' AND as_of < {{d}}
  AND EXISTS (SELECT 1 FROM strategy_plannedaction n
              WHERE n.account_id = strategy_plannedaction.account_id AND n.as_of = {{d}}
                AND n.kind = '{ActionKind.CALL_TASK}' AND n.status = '{ActionStatus.PLANNED}')"""


def _close_earlier_actions(as_of: date) -> tuple[str, str]:
    """What a night closes of earlier days' open actions, after writing its own: those of a stage
    the account has left, and the call tasks its own replace. Both engines' writes run these."""
    return _cancel_stale_actions(as_of), SUPERSEDED_CALL_TASKS.format(d=_date_param(as_of))


def _run_in_postgres(as_of, strategy, version_id, run_id, dry_run, fail_half_way):
    """The night in one transaction on PostgreSQL's own tables.

    The features and the decisions go into UNLOGGED tables named for this run, not temporary
    ones: PostgreSQL reads a temporary table in the leader process only, and the decisions
    statement (every rule, stage and reason per account) then took 9 s where two parallel
    workers take 5 s at a million accounts. They are created in the transaction, so a rollback
    or a killed run leaves nothing, and dropped before it commits. JIT, off for doorstep's
    connections (settings), is on for the features statement alone, whose window and aggregates
    it shortens by about a tenth. Neither table is analysed: every statement after reads each
    with one scan."""
    work = f"nightly_{uuid.uuid4().hex[:12]}"
    features_table, decisions_table = f"{work}_features", f"{work}_dec"
    features = features_sql(as_of, "postgres", sources=snapshot.source_ctes(as_of))
    decided = decisions_sql(strategy, "features", "postgres")
    plan = actions_sql(strategy, decisions_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        with _phase("features"):
            cursor.execute("SET LOCAL jit = on")
            cursor.execute(f"CREATE UNLOGGED TABLE {features_table} AS {features}")
            cursor.execute("SET LOCAL jit = off")
        model = active_model()
        if model is not None:
            with _phase("score"):
                _score_in_postgres(cursor, model, features_table)
        with _phase("decisions"):
            cursor.execute(
                f"CREATE UNLOGGED TABLE {decisions_table} AS "
                + decided.replace("FROM features f", f"FROM {features_table} f")
            )
        with _phase("plan"):
            cursor.execute(f"SELECT stage, COUNT(*) FROM {decisions_table} GROUP BY stage")
            stages = dict(cursor.fetchall())
            accounts = sum(stages.values())
            actions = 0
            if plan:
                cursor.execute(f"CREATE TEMP TABLE nightly_actions ON COMMIT DROP AS {plan}")
                cursor.execute("SELECT COUNT(*) FROM nightly_actions")
                actions = cursor.fetchone()[0]
        if dry_run:
            transaction.set_rollback(True)
            return accounts, actions, stages
        with _phase("write"):
            d = _date_param(as_of)
            cursor.execute(f"DELETE FROM strategy_decision WHERE as_of = {d}")
            cursor.execute(
                f"INSERT INTO strategy_decision ({DECISION_COLUMNS}) "
                + _decision_select(as_of, version_id, run_id, Engine.POSTGRES, decisions_table)
            )
            if fail_half_way:
                raise RuntimeError("killed half-way (test)")
            cursor.execute(
                f"DELETE FROM strategy_plannedaction WHERE as_of = {d} AND status = 'planned'"
                + _NOT_DECISION_NOTICES
            )
            if plan:
                cursor.execute(
                    "CREATE TEMP TABLE nightly_new ON COMMIT DROP AS "
                    + _action_select(as_of, run_id, "nightly_actions")
                )
                cursor.execute(_insert_new_actions("nightly_new"))
            for statement in _close_earlier_actions(as_of):
                cursor.execute(statement)
            cursor.execute(f"DROP TABLE {features_table}, {decisions_table}")
            # The deferred foreign-key checks of every row written (about 7 s for a million
            # decisions) run here rather than in the COMMIT, so the write phase's time holds them.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return accounts, actions, stages


def _score_in_postgres(cursor, model, features_table: str = "nightly_features") -> None:
    """Score the accounts in collections of `features_table`: their history inputs out, the
    scores back through COPY into a temp table, one UPDATE."""
    cursor.execute(
        f"SELECT account_id, {', '.join(SCORE_INPUTS)} FROM {features_table} WHERE {IN_COLLECTIONS}"
    )
    names = [c.name for c in cursor.description]
    rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    inputs = pa.table({name: pa.array(values) for name, values in zip(names, columns, strict=True)})
    if not rows:
        return
    scores = scores_table(model, inputs)
    cursor.execute(
        "CREATE TEMP TABLE nightly_scores (account_id TEXT PRIMARY KEY, risk_score FLOAT8, "
        "p_recover_with_visit FLOAT8, p_recover_without_visit FLOAT8, risk_band TEXT) "
        "ON COMMIT DROP"
    )
    order = ("account_id", "risk_score", "p_recover_with_visit", "p_recover_without_visit",
             "risk_band")  # fmt: skip
    with cursor.copy(f"COPY nightly_scores ({', '.join(order)}) FROM STDIN") as copy:
        for row in zip(*(scores.column(name).to_pylist() for name in order), strict=True):
            copy.write_row(row)
    cursor.execute(_set_scores(features_table, "nightly_scores"))


# --- real time --------------------------------------------------------------------------------


def reevaluate_account(account: Account | str, *, at: datetime, by: str) -> Decision:
    """Decide one account now, with the active strategy, and act on a change of stage.

    Called after a payment, a contact outcome, a new hold or a declined visit, inside the caller's
    transaction. Side effects: the account's decision for today (its region's date) replaced;
    on a change of stage, pending actions of the old stage cancelled (all of them when the account
    left collections) and the new stage's on-entry actions planned; an audit entry
    (decision.realtime: from and to stage, actions cancelled).
    """
    version = active_version()
    strategy = compiled(version)
    with transaction.atomic():
        account_id = account.pk if isinstance(account, Account) else account
        account = locked_account(account_id)
        if account is None:
            raise Account.DoesNotExist(f"no account {account_id}")
        as_of = local_date(account, at)
        row = queries.account_features_row(account, as_of, strategy)
        decision = decide(strategy, row)
        current = Decision.objects.filter(account=account, as_of=as_of).first()
        leaving = current.stage if current else row["previous_stage"]
        fields = {
            "stage": decision.stage,
            "previous_stage": decision.previous_stage,
            "triggers": ",".join(decision.triggers) or None,
            "blocked_by": ",".join(decision.blocked_by) or None,
            "reasons_en": decision.reasons_en,
            "reasons_zh": decision.reasons_zh,
            "arm": decision.arm,
            "dpd": row["dpd"],
            "overdue_cents": row["overdue_cents"],
            "outstanding_cents": row["outstanding_cents"],
            "strategy": version,
            "run": None,
            "engine": Engine.REALTIME,
            "model": row["model"],
            "risk_score": None if row["risk_score"] is None else float(row["risk_score"]),
            "risk_band": row["risk_band"],
        }
        # The account row is locked: `current` is still the day's decision, if it has one.
        if current is None:
            saved = Decision.objects.create(account=account, as_of=as_of, **fields)
        else:
            for name, value in fields.items():
                setattr(current, name, value)
            current.save(update_fields=list(fields))
            saved = current
        cancelled = 0
        if decision.stage != leaving:
            cancelled = (
                PlannedAction.objects.filter(account=account, status=ActionStatus.PLANNED)
                .exclude(stage=decision.stage)
                .update(
                    status=ActionStatus.CANCELLED,
                    cancelled_reason=f"stage changed to {decision.stage} by {by}",
                )
            )
            if decision.stage != Stage.NONE:
                for kind, channel, template in due_actions(
                    strategy, stage=decision.stage, previous_stage=leaving, dpd=row["dpd"]
                ):
                    PlannedAction.objects.get_or_create(
                        account=account,
                        as_of=as_of,
                        kind=kind,
                        channel=channel,
                        template=template,
                        defaults={
                            "stage": decision.stage,
                            "priority": priority_of(row["dpd"], row["overdue_cents"]),
                        },
                    )
        arrangements_closed, placement_ended = 0, False
        if account.status == AccountStatus.SETTLED:
            arrangements_closed = close_on_settlement(
                account.pk, on=account.settled_on or as_of, by=by, at=at
            )
            placement_ended = end_placement(account.pk, by=by, at=at, reason=SETTLED) is not None
        visits_cancelled = 0
        if decision.stage != Stage.HOME_VISIT:
            visits_cancelled = cancel_open_visits(
                account.pk,
                reason=_visit_cancel_reason(decision.stage, row["overdue_cents"]),
                by=by,
                at=at,
            )
        elif leaving != Stage.HOME_VISIT:
            propose_visits([_proposal(saved)], as_of=as_of, by=by, at=at)
        record(
            "decision.realtime",
            actor=by,
            obj=account,
            at=at,
            data={
                "as_of": as_of,
                "from": leaving,
                "to": decision.stage,
                "cancelled_actions": cancelled,
                "cancelled_visits": visits_cancelled,
                "closed_arrangements": arrangements_closed,
                "placement_ended": placement_ended,
                "strategy": version.label,
            },
        )
        return saved


def strategy_impact(as_of: date, old: Strategy, new: Strategy) -> dict[tuple[str, str], int]:
    """How many accounts move from each stage under `old` to each stage under `new`, on one
    snapshot (features computed once, two decision passes). Reads only; publishes nothing."""
    db = duckdb_decisions(as_of, old, snapshot.arrow_snapshot(as_of))
    db.execute(f"CREATE TABLE new_dec AS {decisions_sql(new, 'features', 'duckdb')}")
    rows = db.execute(
        "SELECT o.stage, n.stage, COUNT(*) FROM dec o JOIN new_dec n USING (account_id) "
        "GROUP BY o.stage, n.stage"
    ).fetchall()
    return {(a, b): count for a, b, count in rows}


def take_payment(account_id: str, *, at: datetime | None = None, **payment) -> PostedPayment:
    """Post a payment and re-evaluate the account in the same transaction: a payment that settles
    the account (or clears what is overdue) cancels every pending action before it commits.
    Arguments as `ledger.domain.post_payment`; a replayed (idempotent) posting changes nothing."""
    at = at or timezone.now()
    with transaction.atomic():
        posted = post_payment(account_id, at=at, **payment)
        if not posted.replayed:
            reevaluate_account(posted.account, at=at, by=payment["by"])
        return posted


def reevaluated(operation: Callable[[], T], account_id: str, *, by: str, at: datetime) -> T:
    """Run a domain operation that can change an account's stage (an arrangement approved, a
    complaint filed or answered) and re-evaluate the account, in one transaction."""
    with transaction.atomic():
        result = operation()
        reevaluate_account(account_id, at=at, by=by)
        return result


def decide_arrangement(
    operation: Callable[[], T], arrangement_id: str, account_id: str, *, by: str, at: datetime
) -> tuple[T, str]:
    """Staff's decision on an arrangement request (approve, counter, refuse): the operation, the
    account re-evaluated and the borrower told by SMS (`sending.tell_decision`, at once or in the
    next morning's run), in one transaction. Returns the operation's result and how it was told."""
    with transaction.atomic():
        result = reevaluated(operation, account_id, by=by, at=at)
        return result, tell_decision(arrangement_id, by=by, at=at)


def record_contact_outcome(account_id: str, *, by: str, at: datetime, **contact) -> Decision:
    """Record a contact and re-evaluate the account at once, in one transaction (a promise, a
    refusal or a wrong number can change the stage). Arguments as `contact.domain.record_contact`."""
    with transaction.atomic():
        record_contact(account_id, by=by, at=at, **contact)
        return reevaluate_account(account_id, at=timezone.now(), by=by)


def place_account_hold(account_id: str, *, by: str, **hold) -> Decision:
    """Open a hold and re-evaluate the account at once, in one transaction: a dispute or complaint
    suspends it and cancels its planned actions before commit. Arguments as `ledger.place_hold`."""
    with transaction.atomic():
        place_hold(account_id, by=by, **hold)
        return reevaluate_account(account_id, at=timezone.now(), by=by)
