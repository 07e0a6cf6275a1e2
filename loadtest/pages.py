"""The CPU of each endpoint of the load test's scenario, one request at a time, in process
(docs/loadtest.md): Django's test client against a PostgreSQL copy of the load test's database,
warm, N requests per endpoint. Per endpoint: this process's CPU (median ms, `process_time`, which
other load on a shared machine disturbs less than wall time), the CPU of the connection's
PostgreSQL backend (mean ms, from /proc: PostgreSQL on this machine), wall ms and queries.
"reference" is a fixed pure-Python loop, first and last: how fast the machine was meanwhile.

    createdb -T doorstep_loadtest_20000_cache X    # the cache `make loadtest` builds
    DATABASE_URL=postgres://…/X doorstep migrate
    DATABASE_URL=postgres://…/X doorstep bench load --worker prepare --out users.json
    DATABASE_URL=postgres://…/X python loadtest/pages.py users.json [N] [out.json]

It writes (calls, payments, check-ins): use a throwaway copy. PROFILE=<endpoint> profiles one
endpoint with cProfile instead of timing it; DUMP=<endpoint> prints its queries.
"""

import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paths import path  # noqa: E402

DATA = json.loads(Path(sys.argv[1]).read_text())
N = int(sys.argv[2]) if len(sys.argv) > 2 else 20
TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu() -> float:
    with connection.cursor() as c:
        c.execute("SELECT pg_backend_pid()")
        pid = c.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


results = {}


def measure(name, fn, n=N, warm=3):
    for k in range(warm):
        fn(k)
    cpu, wall, pg, queries = [], [], [], []
    if os.environ.get("PROFILE") == name:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for i in range(n):
            fn(i + warm)
        prof.disable()
        st = pstats.Stats(prof)
        st.sort_stats("cumulative").print_stats(60)
        if os.environ.get("CALLEES"):
            st.print_callees(os.environ["CALLEES"])
        st.sort_stats("tottime").print_stats(30)
        results[name] = {}
        return
    for i in range(n):
        connection.ensure_connection()
        pg0 = backend_cpu()
        with CaptureQueriesContext(connection) as ctx:
            w0, c0 = time.perf_counter(), time.process_time()
            fn(i + warm)
            c1, w1 = time.process_time(), time.perf_counter()
        pg1 = backend_cpu()
        cpu.append((c1 - c0) * 1000)
        wall.append((w1 - w0) * 1000)
        pg.append((pg1 - pg0) * 1000)
        queries.append(len(ctx.captured_queries) - 0)
        if os.environ.get("DUMP") == name and i == 0:
            for q in ctx.captured_queries:
                print("   ", q["time"], q["sql"][:300])
    results[name] = {
        "cpu_ms": round(statistics.median(cpu), 1),
        "cpu_mean": round(statistics.mean(cpu), 1),
        "pg_ms": round(statistics.mean(pg), 1),
        "wall_ms": round(statistics.median(wall), 1),
        "queries": round(statistics.median(queries)),
    }
    r = results[name]
    print(
        f"{name:<16} cpu {r['cpu_ms']:7.1f} (mean {r['cpu_mean']:6.1f})  pg {r['pg_ms']:5.1f}  "
        f"wall {r['wall_ms']:7.1f}  queries {r['queries']}",
        flush=True,
    )


def check(response, status):
    assert response.status_code == status, (response.status_code, response.get("Location"))
    return response


def reference(i):
    # a fixed pure-Python workload: how fast the machine is now (shared; other benchmarks run)
    total = 0
    for k in range(200_000):
        total += k * k % 7
    return total


measure("reference", reference)


def signed_in(login: dict, then: str) -> Client:
    """A client signed in through the staff login form, as the load test's users are."""
    client = Client()
    form = {"username": login["username"], "password": login["password"], "next": then}
    check(client.post("/admin/login/", form), 302)
    return client


# --- a phone collector ---
staff = signed_in(DATA["collectors"][0], "/console/")
tasks = [t for login in DATA["collectors"] for t in login["tasks"]]
accounts = [t[1] for t in tasks]

measure("call_queue", lambda i: check(staff.get(path("call_queue")), 200))
measure("case_view", lambda i: check(staff.get(path("case_view", account=accounts[i % 40])), 200))
measure(
    "call_claim",
    lambda i: check(
        staff.post(path("call_claim", action=str(tasks[300 + i][0])), HTTP_HX_REQUEST="true"), 200
    ),
)
OUT = ("no_answer", "reached", "no_answer", "unreachable")
measure(
    "call_outcome",
    lambda i: check(
        staff.post(path("call_outcome", account=accounts[200 + i]), {"outcome": OUT[i % 4]}), 302
    ),
)
# the case view after a call (the account called once)
measure(
    "case_view_after", lambda i: check(staff.get(path("case_view", account=accounts[200 + i])), 200)
)

# --- a borrower ---
me = DATA["borrowers"][0]
# An address of its own: the portal allows one client address 30 sign-in codes an hour.
b = Client(REMOTE_ADDR=f"10.9.{os.getpid() % 250}.{int(time.time()) % 250}")
check(b.get("/my/"), 200)
check(b.post("/my/", {"phone": me["phone"]}), 302)
code = re.search(r'id="demo-code".*?(\d{6})\s*</div>', b.get("/my/code/").content.decode(), re.S)
check(b.post("/my/code/", {"code": code.group(1)}), 302)
acct = me["account"]
measure("portal_accounts", lambda i: check(b.get(path("portal_accounts")), 302))
measure("portal_account", lambda i: check(b.get(path("portal_account", account=acct)), 200))
measure("portal_pay", lambda i: check(b.get(path("portal_pay", account=acct)), 200))
intents = []


def pay(i):
    r = check(
        b.post(path("portal_pay", account=acct), {"purpose": "partial", "amount": "1.00"}), 302
    )
    intents.append(r["Location"].strip("/").split("/")[-2])


measure("portal_pay_post", pay, n=10, warm=1)
measure(
    "pay_sandbox",
    lambda i: check(b.get(path("pay_sandbox", intent=intents[i % len(intents)])), 200),
    n=10,
)
measure(
    "pay_sandbox_post",
    lambda i: check(b.post(path("pay_sandbox", intent=intents[i]), {"result": "paid"}), 302),
    n=8,
    warm=1,
)
measure("payment", lambda i: check(b.get(path("payment", intent=intents[i % len(intents)])), 200))

# --- a field agent ---
a = DATA["agents"][0]
agent = signed_in(a, "/field/")
measure("field_day", lambda i: check(agent.get(path("field_day")), 200))
visits = a["visits"]
measure(
    "field_visit",
    lambda i: check(agent.get(path("field_visit", visit=visits[i % len(visits)])), 200),
)
checkins = [
    (DATA["agents"][k], v)
    for k in range(len(DATA["agents"]))
    for v in DATA["agents"][k]["check_in"]
]
agents = {}


def check_in(i):
    login, v = checkins[i]
    r = check(
        agents[login["username"]].post(path("field_check_in", visit=v), {"lat": "", "lon": ""}), 302
    )
    assert "error" not in r["Location"], r["Location"]


# Every agent signs in outside the timed part.
for login in DATA["agents"]:
    agents[login["username"]] = signed_in(login, "/field/")
measure("field_check_in", check_in, n=min(10, len(checkins) - 2), warm=2)

measure("reference_end", reference)
if len(sys.argv) > 3:
    Path(sys.argv[3]).write_text(json.dumps(results, indent=1))
