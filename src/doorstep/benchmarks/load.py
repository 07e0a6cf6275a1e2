"""doorstep bench load: the site under load — collectors, borrowers and field agents at once.

`make loadtest` runs it (docs/loadtest.md). On the PostgreSQL that DATABASE_URL names, it builds
the demo portfolio once into a cache database (`doorstep demo --no-serve`, marked done with
COMMENT ON DATABASE, as `bench nightly` does), copies it to a fresh work database for every run,
prepares what each virtual user needs (`prepare`, below: logins, call tasks, borrowers' phones,
today's visits) into a JSON file, starts `doorstep serve` on a loopback port, runs the locust
scenario (loadtest/locustfile.py) headless for a fixed time and user count, stops the server and
prints, per endpoint, requests/s, p50, p99 and failures, with the totals and how the CPU split
between locust, gunicorn and PostgreSQL. The figures are the JSON object of the last line; the
command fails (exit 1) when any request failed.
"""

import argparse
import csv
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import dj_database_url

from doorstep.benchmarks.ledger import (
    bench_dir,
    database_marked,
    postgres_admin,
    postgres_url,
    with_database,
)

# Marks a cached PostgreSQL database whose demo build finished (COMMENT ON DATABASE).
BUILT = "doorstep bench load: built"
LOCUSTFILE = Path(__file__).resolve().parents[3] / "loadtest" / "locustfile.py"
# The staff logins the load test creates share one password (a demo database's, never real).
PASSWORD = "load-test-only"  # noqa: S105
# At most this many portal sign-ins from one client address per hour (DOORSTEP_PORTAL), and every
# virtual user comes from 127.0.0.1: each borrower signs in once, so no more borrowers than that.
MAX_BORROWERS = 30
# The locust user classes of each scenario (loadtest/locustfile.py): the day's work, or the floor
# (the console's and the portal's front doors only, as fast as answers come: what the stack serves
# when pages do no work of their own).
SCENARIOS = {
    "work": ("PhoneCollector", "Borrower", "FieldAgent"),
    "floor": ("FloorCollector", "FloorBorrower"),
}


def add_arguments(parser) -> None:
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=120, help="how long locust runs")
    parser.add_argument(
        "--rate", type=float, default=300, help="offered load, requests/s (the users' pace)"
    )
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="work",
        help="work: collectors, borrowers and agents at --rate; floor: the front doors only, "
        "unpaced (docs/loadtest.md)",
    )
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--rebuild", action="store_true", help="build the demo database anew")
    parser.add_argument("--keep", action="store_true", help="keep the work database afterwards")
    parser.add_argument("--worker", choices=["prepare"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)


def run(options: dict, out) -> dict:
    if options.get("worker") == "prepare":
        from django.utils import timezone

        data = prepare(at=timezone.now())
        options["out"].write_text(json.dumps(data, indent=1))
        return {key: len(value) for key, value in data.items() if isinstance(value, list)}
    from django.core.management.base import CommandError

    url = postgres_url()
    if url is None:
        raise CommandError("bench load needs DATABASE_URL naming a PostgreSQL server")
    accounts = options["accounts"]
    base = dj_database_url.parse(url)["NAME"]
    cache, work = f"{base}_loadtest_{accounts}_cache", f"{base}_loadtest"
    directory = bench_dir() / "load"
    directory.mkdir(parents=True, exist_ok=True)
    with postgres_admin(url) as admin:
        built = database_marked(admin, cache, BUILT) and not options["rebuild"]
        if built:
            out(f"using the built database {cache} (--rebuild to build it anew)")
        else:
            admin.execute(f'DROP DATABASE IF EXISTS "{cache}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{cache}"')
            out(f"building the demo portfolio ({accounts:,} accounts) into {cache} …")
            started = time.monotonic()
            cache_url = with_database(url, cache)
            _doorstep(["demo", "--no-serve", "--accounts", str(accounts)], cache_url, quiet=True)
            # Planner statistics for the freshly loaded tables, as autovacuum would gather them
            # soon after a real import; the copies inherit them.
            _doorstep(["dbshell", "--", "-q", "-c", "VACUUM ANALYZE"], cache_url, quiet=True)
            admin.execute(f"COMMENT ON DATABASE \"{cache}\" IS '{BUILT}'")
            out(f"  built in {time.monotonic() - started:.0f} s")
        admin.execute(f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{work}" TEMPLATE "{cache}" STRATEGY FILE_COPY')
    work_url = with_database(url, work)
    try:
        # The cache may predate the code's newest migrations.
        _doorstep(["migrate", "--no-input", "-v", "0"], work_url)
        out(f"preparing the virtual users' data in {work} …")
        data_file = directory / "users.json"
        started = time.monotonic()
        _doorstep(["bench", "load", "--worker", "prepare", "--out", str(data_file)], work_url)
        out(f"  prepared in {time.monotonic() - started:.0f} s")
        figures = _measure(options, work_url, data_file, directory, out)
    finally:
        if not options["keep"]:
            with postgres_admin(url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')
    figures["database_cached"] = built
    out(describe(figures))
    return figures


def _doorstep(arguments: list[str], database_url: str, *, quiet: bool = False) -> None:
    env = dict(os.environ, DATABASE_URL=database_url)
    command = [sys.executable, "-m", "doorstep.cli", *arguments]
    subprocess.run(  # noqa: S603 (our own command, our own arguments)
        command, env=env, check=True, stdout=subprocess.DEVNULL if quiet else subprocess.PIPE
    )


# --- the run ---------------------------------------------------------------------------------


def _measure(options: dict, database_url: str, data_file: Path, directory: Path, out) -> dict:
    data = json.loads(data_file.read_text())
    scenario = options.get("scenario", "work")
    kinds = (
        ("collectors", "borrowers")
        if scenario == "floor"
        else ("collectors", "borrowers", "agents")
    )
    users = sum(len(data[kind]) for kind in kinds)
    port = options["port"] or _free_port()
    # serve's own default (2 × CPUs + 1) unless --workers says otherwise.
    workers, threads = options["workers"] or 2 * (os.cpu_count() or 1) + 1, options["threads"]
    rate = options["rate"]
    site = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DATABASE_URL=database_url)
    server_log = directory / "serve.log"
    command = [sys.executable, "-m", "doorstep.cli", "serve", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--threads", str(threads)]  # fmt: skip
    with server_log.open("w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        _wait_until_up(f"{site}/my/", server)
        asking = "the front doors, unpaced" if scenario == "floor" else f"{rate:.0f} requests/s"
        out(f"doorstep serve on {site}: {workers} workers × {threads} threads; locust "
            f"({scenario}): {users} users ("
            + ", ".join(f"{len(data[kind])} {kind}" for kind in kinds)
            + f") asking {asking} for {options['seconds']} s …")  # fmt: skip
        load_before = os.getloadavg()[0]
        prefix = directory / "locust"
        locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
                  "-u", str(users), "-r", str(users), "-t", f"{options['seconds']}s",
                  "--host", site, "--csv", str(prefix), "--only-summary",
                  "--stop-timeout", "10", "--loglevel", "WARNING", *SCENARIOS[scenario]]  # fmt: skip
        locust_env = dict(
            os.environ, DOORSTEP_LOADTEST_DATA=str(data_file), DOORSTEP_LOADTEST_RATE=str(rate)
        )
        cpu_before, children_before = _cpu(server.pid), _children_cpu()
        started = time.monotonic()
        # Sampled every second while locust runs: a PostgreSQL backend ends when Django renews
        # its connection (CONN_MAX_AGE, 60 s), and what it used must not go with it.
        cpu_after = _cpu(server.pid)
        with (directory / "locust.log").open("w") as log:
            running = subprocess.Popen(locust, env=locust_env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
            while running.poll() is None:
                time.sleep(1)
                cpu_after = _merged(cpu_after, _cpu(server.pid))
        wall = time.monotonic() - started
        cpu_after, children_after = _merged(cpu_after, _cpu(server.pid)), _children_cpu()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    figures = read_stats(prefix)
    busy = {k: round(v, 1) for k, v in _cpu_used(cpu_before, cpu_after).items()}

    busy["locust"] = round(children_after - children_before, 1)
    busy["other"] = round(
        max(busy["machine"] - busy["gunicorn"] - busy["postgres"] - busy["locust"], 0), 1
    )
    figures.update(
        scenario=scenario,
        seconds=options["seconds"],
        offered_requests_per_s=None if scenario == "floor" else rate,
        users=users,
        workers=workers,
        threads=threads,
        load_average_at_start=round(load_before, 2),
        cpu_seconds={**busy, "wall": round(wall, 1), "cores": os.cpu_count()},
        failures_by_error=_failures(prefix),
    )
    return figures


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, seconds: int = 90) -> None:
    from django.core.management.base import CommandError

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError(f"doorstep serve exited ({server.returncode}); see serve.log")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (loopback)
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise CommandError(f"doorstep serve did not answer {url} within {seconds} s")


def _ticks(pid: int) -> float:
    """User + system CPU seconds of one process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu(server_pid: int) -> dict:
    """CPU seconds so far, per process of the server (master and workers) and of PostgreSQL, and
    the whole machine's busy time (every core, from /proc/stat)."""
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if int(entry.name) == server_pid or parent == server_pid:
            processes[int(entry.name)] = ("gunicorn", _ticks(int(entry.name)))
        elif name == "postgres":
            processes[int(entry.name)] = ("postgres", _ticks(int(entry.name)))
    times = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = times[3] + times[4]  # idle, iowait
    return {"processes": processes, "machine": (sum(times[:8]) - idle) / os.sysconf("SC_CLK_TCK")}


def _merged(earlier: dict, later: dict) -> dict:
    """A later `_cpu` reading that keeps the last figure of processes that have ended since."""
    return {"processes": {**earlier["processes"], **later["processes"]},
            "machine": later["machine"]}  # fmt: skip


def _cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds between two `_cpu` readings by kind. Per process, so that one that ended in
    between (an autovacuum worker) takes nothing away; what a process used after the last
    reading before it ended is not counted (it shows under "other")."""
    used = {"gunicorn": 0.0, "postgres": 0.0}
    for pid, (kind, ticks) in after["processes"].items():
        earlier = before["processes"].get(pid)
        used[kind] += ticks - (earlier[1] if earlier and earlier[0] == kind else 0.0)
    return {**used, "machine": after["machine"] - before["machine"]}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def read_stats(prefix: Path) -> dict:
    """Locust's CSV summary as figures: per endpoint (method and pattern) and in total."""
    endpoints, total = {}, None
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            figures = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "requests_per_s": round(float(row["Requests/s"]), 1),
                "p50_ms": _ms(row["50%"]),
                "p99_ms": _ms(row["99%"]),
            }
            if row["Name"] == "Aggregated":
                total = figures
            else:
                endpoints[f"{row['Type']} {row['Name']}"] = figures
    total = total or {"requests": 0, "failures": 0, "requests_per_s": 0, "p50_ms": 0, "p99_ms": 0}
    return {**total, "endpoints": endpoints}


def _ms(value: str) -> float | None:
    return None if value in ("", "N/A") else float(value)


def _failures(prefix: Path) -> list[dict]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [
            {"endpoint": f"{r['Method']} {r['Name']}", "error": r["Error"][:200],
             "count": int(r["Occurrences"])}
            for r in csv.DictReader(handle)
        ]  # fmt: skip


def describe(f: dict) -> str:
    """The figures as a table: per endpoint, then the totals and the CPU split."""
    lines = [
        f"{'endpoint':<46} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'requests':>9} {'fail':>5}"
    ]
    for name, e in sorted(f["endpoints"].items(), key=lambda item: item[0].split(" ", 1)[::-1]):
        lines.append(f"{name:<46} {e['requests_per_s']:>7.1f} {e['p50_ms'] or 0:>7.0f} "
                     f"{e['p99_ms'] or 0:>7.0f} {e['requests']:>9,} {e['failures']:>5}")  # fmt: skip
    lines.append(f"{'total':<46} {f['requests_per_s']:>7.1f} {f['p50_ms'] or 0:>7.0f} "
                 f"{f['p99_ms'] or 0:>7.0f} {f['requests']:>9,} {f['failures']:>5}")  # fmt: skip
    cpu = f["cpu_seconds"]
    capacity = cpu["wall"] * cpu["cores"]
    share = {k: 100 * cpu[k] / capacity for k in ("gunicorn", "postgres", "locust", "other")}
    lines.append(
        f"CPU over {cpu['wall']:.0f} s × {cpu['cores']} cores: gunicorn {cpu['gunicorn']:.0f} s "
        f"({share['gunicorn']:.0f}%), PostgreSQL {cpu['postgres']:.0f} s ({share['postgres']:.0f}%), "
        f"locust {cpu['locust']:.0f} s ({share['locust']:.0f}%), other {cpu['other']:.0f} s "
        f"({share['other']:.0f}%), idle {100 - 100 * cpu['machine'] / capacity:.0f}%; "
        f"load average at start {f['load_average_at_start']}"
    )
    for failure in f["failures_by_error"][:10]:
        lines.append(f"  failed {failure['count']}×: {failure['endpoint']}: {failure['error']}")
    return "\n".join(lines)


# --- the virtual users' data ----------------------------------------------------------------


def zone_where_it_is(hour: int, at: datetime) -> str:
    """A fixed-offset zone in which it is about `hour` o'clock at `at`."""
    offset = (hour - at.astimezone(UTC).hour) % 24
    offset = offset - 24 if offset > 12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def prepare(
    *, at: datetime, collectors: int = 10, borrowers: int = 30, teams: int = 4, visits: int = 6
) -> dict:
    """What the virtual users need, written into the database they will use (a throwaway copy of
    the demo portfolio) and returned for the locust scenario:

    - every region is put in a zone where it is about 11:00 at `at`, so that contact and visit
      hours hold whenever the load test runs (as the browser tests do);
    - `collectors` phone-collector logins, the latest nightly run's open call tasks dealt to
      them in turn ([action id, account id]);
    - `borrowers` borrowers with one account that is still owed, each with a number of their own
      (one per stage of the latest decisions in turn), and the number in clear;
    - `teams` field teams of two agents with logins, each given `visits` of its region's proposed
      visits for today through the workflow's own steps: approved and noticed four days ago
      (the notice's letter and message included), assigned today in route order; each agent is
      to check in half of their team's visits.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db.models import Count, Max

    from doorstep.ledger.enums import AccountStatus
    from doorstep.ledger.models import Account, Borrower, Region
    from doorstep.ledger.privacy import configured_cipher
    from doorstep.strategy.enums import ActionKind, ActionStatus
    from doorstep.strategy.models import Decision, PlannedAction

    zone = zone_where_it_is(11, at)
    Region.objects.update(time_zone=zone)
    today = at.astimezone(ZoneInfo(zone)).date()
    users = get_user_model()
    password = make_password(PASSWORD)

    def logins(prefix: str, role: str, count: int) -> list:
        made = users.objects.bulk_create(
            [users(username=f"{prefix}-{n:02d}", password=password, is_staff=True)
             for n in range(1, count + 1)]
        )  # fmt: skip
        Group.objects.get(name=role).user_set.add(*made)
        return made

    staff = logins("lt-collector", "phone_collector", collectors)
    latest = PlannedAction.objects.filter(kind=ActionKind.CALL_TASK).aggregate(Max("as_of"))
    tasks = list(
        PlannedAction.objects.filter(
            kind=ActionKind.CALL_TASK, status=ActionStatus.PLANNED, as_of=latest["as_of__max"]
        )
        .order_by("pk")
        .values_list("pk", "account_id")
    )
    collector_rows = [
        {
            "username": u.username,
            "password": PASSWORD,
            "tasks": [list(t) for t in tasks[n::collectors]],
        }
        for n, u in enumerate(staff)
    ]

    shared = Borrower.objects.values("phone_hash").annotate(n=Count("id")).filter(n__gt=1)
    candidates = (
        Borrower.objects.annotate(n=Count("accounts"))
        .filter(n=1)
        .exclude(phone_hash__in=shared.values("phone_hash"))
    )
    as_of = Decision.objects.aggregate(Max("as_of"))["as_of__max"]
    stages = ("reminder", "phone", "home_visit")
    picked: dict[str, list[str]] = {stage: [] for stage in stages}
    for stage in stages:
        picked[stage] = list(
            Decision.objects.filter(
                as_of=as_of,
                stage=stage,
                account__status=AccountStatus.ACTIVE,
                overdue_cents__gt=10_000,
                account__borrower__in=candidates,
            )
            .order_by("account_id")
            .values_list("account_id", flat=True)[:borrowers]
        )
    chosen = [a for row in zip(*picked.values(), strict=False) for a in row][:borrowers]
    cipher = configured_cipher()
    borrower_rows = [
        {"phone": cipher.decrypt(a.borrower.phone_encrypted), "account": a.pk}
        for a in Account.objects.filter(pk__in=chosen).select_related("borrower").order_by("pk")
    ]

    agent_rows = _field_teams(at=at, today=today, zone=zone, teams=teams, visits=visits,
                              logins=logins)  # fmt: skip
    return {
        "today": today.isoformat(),
        "zone": zone,
        "collectors": collector_rows,
        "borrowers": borrower_rows,
        "agents": agent_rows,
    }


def _field_teams(*, at, today, zone, teams, visits, logins) -> list[dict]:
    from django.db.models import Avg, Count

    from doorstep.ledger.models import Borrower
    from doorstep.visits.domain import approve_visits, form_team, send_notice, transition
    from doorstep.visits.enums import VisitEvent, VisitState
    from doorstep.visits.errors import VisitError
    from doorstep.visits.models import FieldAgent, Visit

    noticed_at = datetime.combine(today - timedelta(days=4), clock(11), tzinfo=ZoneInfo(zone))
    busiest = list(
        Visit.objects.filter(state=VisitState.PROPOSED)
        .values("account__borrower__region_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "account__borrower__region_id")
        .values_list("account__borrower__region_id", flat=True)[:teams]
    )
    users = logins("lt-agent", "field_agent", 2 * len(busiest))
    rows = []
    for t, region in enumerate(busiest):
        agents = []
        for k in (0, 1):
            agent = FieldAgent.objects.create(
                credential_no=f"LT-{t + 1}-{k + 1}",
                name=f"负载测试{t + 1}-{k + 1}",
                organisation="doorstep load test",
                user=users[2 * t + k],
                valid_from=today - timedelta(days=365),
                valid_until=today + timedelta(days=365),
            )
            agent.regions.add(region)
            agents.append(agent)
        centre = Borrower.objects.filter(region_id=region, lat__isnull=False).aggregate(
            lat=Avg("lat"), lon=Avg("lon")
        )
        team = form_team(f"LT-{t + 1}", region_code=region, members=agents,
                         base=(centre["lat"], centre["lon"]), by="loadtest", at=noticed_at,
                         capacity=visits)  # fmt: skip
        proposed = Visit.objects.filter(
            state=VisitState.PROPOSED, account__borrower__region_id=region
        ).order_by("-priority", "-overdue_cents", "pk")
        day: list[str] = []
        for visit in proposed[: visits * 3]:
            if len(day) == visits:
                break
            order = len(day) + 1
            start = clock(8 + order)
            try:
                approve_visits([visit.pk], by="lt-supervisor", at=noticed_at)
                send_notice(visit.pk, visit_date=today, window=(start, clock(10 + order)),
                            team=team, order=order, eta=start, by="loadtest", at=noticed_at)  # fmt: skip
            except VisitError:
                continue  # the guard refused the notice (a hold, a cap): the next proposal
            transition(visit.pk, VisitEvent.ASSIGN, by="loadtest", at=at,
                       data={"team": team.code, "order": order}, route_order=order, eta=start)  # fmt: skip
            day.append(visit.pk)
        for k in (0, 1):
            rows.append(
                {"username": users[2 * t + k].username, "password": PASSWORD, "visits": day,
                 "check_in": day[k::2]}
            )  # fmt: skip
    return rows
