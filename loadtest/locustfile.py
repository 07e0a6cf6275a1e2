"""The load test's scenario (docs/loadtest.md): phone collectors, borrowers and field agents at once.

Run by `make loadtest` (doorstep bench load), which prepares the data each virtual user needs and
names the file in DOORSTEP_LOADTEST_DATA. One virtual user per prepared login or borrower
(`fixed_count`); each works at a fixed pace (`constant_throughput`), so the load is a fixed
number of task runs per second (DOORSTEP_LOADTEST_RATE, in requests per second, default 300)
until the server cannot keep up. Requests are named by endpoint pattern (loadtest/paths.py), so
the figures aggregate per endpoint. Redirects are not followed: each request is checked for the status (and
where it says so, the place) the real page or form gives, and the page a browser would load next
is requested under its own name.

- PhoneCollector: signs in through the staff login; then, per call: the call queue, a claim of the
  next call task dealt to them (as the queue's htmx button sends it), the case view, a call outcome
  through the case view's form, the case view again.
- Borrower: signs in on the portal by phone number and the one-time code (the demo shows it on
  the code page: SMS goes to the local outbox); then views their accounts and the account's
  status, or pays ¥1.00 through the sandbox gateway (the pay page, the form, the sandbox's page,
  "paid", the payment's page).
- FieldAgent: signs in; opens today's visits and one visit in turn, and checks in (through the
  visit page's form) at each visit dealt to them, once.

The floor scenario (`bench load --scenario floor`, classes FloorCollector and FloorBorrower) signs
in the same collectors and borrowers and asks only for the two front doors, as fast as answers
come: the console's (`/console/`: the session, the user and their permissions read, a redirect to
their first page) and the portal's (`/my/accounts/`: the session, the borrower's accounts, a
redirect to the one). No page is rendered: it is what this stack serves on this machine when pages
do no work of their own, the ceiling for the scenario above.
"""

import itertools
import json
import os
import random
import re
import sys
from pathlib import Path

from locust import FastHttpUser, constant, constant_throughput, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paths import name, path

DATA = json.loads(Path(os.environ["DOORSTEP_LOADTEST_DATA"]).read_text())
# The offered load in requests per second: every user runs its tasks at the same fixed rate, set
# so that the users together ask this much while the server keeps up (a collector's call is 5
# requests, a borrower's task 3 on average, an agent's about 2).
RATE = float(os.environ.get("DOORSTEP_LOADTEST_RATE", "300"))
REQUESTS_PER_TASK = {"collectors": 5, "borrowers": 3, "agents": 2.1}
TASKS_PER_S = RATE / sum(len(DATA[k]) * n for k, n in REQUESTS_PER_TASK.items())
CODE = re.compile(r'id="demo-code".*?(\d{6})\s*</div>', re.S)
OUTCOMES = ("no_answer", "reached", "no_answer", "unreachable")


class Page(FastHttpUser):
    abstract = True

    def csrf(self) -> dict:
        token = next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), "")
        return {"X-CSRFToken": token}

    def get(self, endpoint: str, status: int = 200, **ids):
        with self.client.get(path(endpoint, **ids), name=name(endpoint), allow_redirects=False,
                             catch_response=True) as r:  # fmt: skip
            if r.status_code != status:
                r.failure(f"{r.status_code}, expected {status}")
            return r

    def post(self, endpoint: str, data: dict, *, to: str | None = None, headers=None, **ids):
        """POST a form; it must answer 302 to `to` (a place starting with it, when `to` ends with
        a *), or 200 with no `to`."""
        with self.client.post(path(endpoint, **ids), data=data, name=name(endpoint),
                              headers={**self.csrf(), **(headers or {})}, allow_redirects=False,
                              catch_response=True) as r:  # fmt: skip
            location = r.headers.get("Location", "") or ""
            if to is None and r.status_code != 200:
                r.failure(f"{r.status_code}, expected 200")
            elif to is not None and (
                r.status_code != 302
                or not (location.startswith(to[:-1]) if to.endswith("*") else location == to)
            ):
                r.failure(f"{r.status_code} to {location!r}, expected 302 to {to}")
            return r

    def staff_sign_in(self, login: dict, to: str) -> None:
        self.get("staff_login")
        self.post("staff_login", {"username": login["username"], "password": login["password"],
                                  "next": to}, to=to)  # fmt: skip

    def portal_sign_in(self, me: dict) -> None:
        """The portal's sign-in by phone number and the one-time code the demo shows."""
        self.account = me["account"]
        self.get("portal_signin")
        self.post("portal_signin", {"phone": me["phone"]}, to=path("portal_code"))
        page = self.get("portal_code")
        found = CODE.search(page.text or "")
        if found is None:
            raise StopUser  # no code on the page: counted as the failure of the line above
        self.post("portal_code", {"code": found.group(1)}, to=path("portal_accounts"))


class PhoneCollector(Page):
    fixed_count = len(DATA["collectors"])
    wait_time = constant_throughput(TASKS_PER_S)
    logins = iter(DATA["collectors"])

    def on_start(self):
        login = next(self.logins)
        self.login, self.done, self.called = login["username"], False, []
        self.tasks_left = iter(login["tasks"])
        self.staff_sign_in(login, "/console/")

    @task
    def work_a_call(self):
        item = next(self.tasks_left, None)
        if item is None:
            # Every call task dealt to this collector is done: they go on reading the queue and
            # the cases they called (locust's log says so once).
            if not self.done:
                self.done = True
                print(f"{self.login}: all call tasks done; reading only from now")
            self.get("call_queue")
            self.get("case_view", account=random.choice(self.called))  # noqa: S311
            return
        action, account = str(item[0]), item[1]
        self.called.append(account)
        self.get("call_queue")
        self.post("call_claim", {}, headers={"HX-Request": "true"}, action=action)
        self.get("case_view", account=account)
        self.post("call_outcome", {"outcome": random.choice(OUTCOMES)},  # noqa: S311
                  to=path("case_view", account=account), account=account)  # fmt: skip
        self.get("case_view", account=account)


class Borrower(Page):
    fixed_count = len(DATA["borrowers"])
    wait_time = constant_throughput(TASKS_PER_S)
    borrowers = iter(DATA["borrowers"])

    def on_start(self):
        self.portal_sign_in(next(self.borrowers))

    @task(3)
    def see_status(self):
        self.get("portal_accounts", 302)
        self.get("portal_account", account=self.account)

    @task(1)
    def pay(self):
        self.get("portal_pay", account=self.account)
        started = self.post("portal_pay", {"purpose": "partial", "amount": "1.00"},
                            to="/my/payments/*", account=self.account)  # fmt: skip
        intent = (started.headers.get("Location") or "").strip("/").split("/")[-2:-1]
        if not intent:
            return
        self.get("pay_sandbox", intent=intent[0])
        self.post("pay_sandbox", {"result": "paid"}, to=path("payment", intent=intent[0]),
                  intent=intent[0])  # fmt: skip
        self.get("payment", intent=intent[0])


class FieldAgent(Page):
    fixed_count = len(DATA["agents"])
    wait_time = constant_throughput(TASKS_PER_S)
    logins = iter(DATA["agents"])

    def on_start(self):
        login = next(self.logins)
        self.visits = itertools.cycle(login["visits"])
        self.to_check_in = set(login["check_in"])
        self.staff_sign_in(login, "/field/")

    @task
    def visit(self):
        self.get("field_day")
        visit = next(self.visits)
        self.get("field_visit", visit=visit)
        if visit in self.to_check_in:
            self.to_check_in.discard(visit)
            # The visit page again, without ?error=: the guard let the agent in.
            self.post("field_check_in", {"lat": "", "lon": ""},
                      to=path("field_visit", visit=visit), visit=visit)  # fmt: skip


class FloorCollector(Page):
    fixed_count = len(DATA["collectors"])
    wait_time = constant(0)
    logins = iter(DATA["collectors"])

    def on_start(self):
        self.staff_sign_in(next(self.logins), "/console/")

    @task
    def front_door(self):
        self.get("console_home", 302)


class FloorBorrower(Page):
    fixed_count = len(DATA["borrowers"])
    wait_time = constant(0)
    borrowers = iter(DATA["borrowers"])

    def on_start(self):
        self.portal_sign_in(next(self.borrowers))

    @task
    def front_door(self):
        self.get("portal_accounts", 302)
