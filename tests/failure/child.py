"""The processes the failure tests kill. Each runs with the clock set by DOORSTEP_TEST_CLOCK (ISO
8601 with offset) and ticking from there, so nothing in it depends on the real date.

    python -m tests.failure.child doorstep ARGS...            the doorstep command
    python -m tests.failure.child prepare DIR ACCOUNTS SEED AS_OF
        a database with a generated portfolio, approved templates and the default strategy
    python -m tests.failure.child pay FLAG ACCOUNT CENTS KEY PAID_AT
    python -m tests.failure.child callback FLAG BODY_FILE SIGNATURE
        take a payment (or apply a gateway callback) and stop between the ledger write and the
        commit: FLAG is written (JSON: pid, PostgreSQL backend pid), then the process waits for
        FLAG.go before it goes on to commit, or for its kill.
"""

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import time_machine

HANG_SECONDS = 120


def main(argv: list[str]) -> None:
    clock = os.environ.get("DOORSTEP_TEST_CLOCK")
    with time_machine.travel(datetime.fromisoformat(clock), tick=True) if clock else _nothing():
        command, *args = argv
        if command == "doorstep":
            from doorstep.cli import main as doorstep

            doorstep(args)
            return
        _django()
        {"prepare": prepare, "pay": pay, "callback": callback}[command](*args)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")
    django.setup()


def prepare(directory: str, accounts: str, seed: str, as_of: str) -> None:
    from datetime import date

    from django.core.management import call_command

    from doorstep.compliance.domain import review_template
    from doorstep.contact.domain import draft_default_templates
    from doorstep.intake.importer import import_portfolio
    from doorstep.strategy.domain import active_version
    from doorstep.synth import generate_portfolio

    call_command("migrate", interactive=False, verbosity=0)
    generate_portfolio(
        Path(directory), accounts=int(accounts), seed=int(seed), as_of=date.fromisoformat(as_of)
    )
    import_portfolio(Path(directory))
    for template in draft_default_templates(by="failure-writer"):
        review_template(template.pk, by="failure-compliance", approve=True)
    active_version()


def _hang_after_posting(flag: Path) -> None:
    """Stop inside the posting's transaction, right after its last write (the audit entry of
    payment.posted), until told to go on or killed."""
    from django.db import connection

    from doorstep.ledger import domain

    real = domain.record

    def record(code, **kwargs):
        entry = real(code, **kwargs)
        if code == "payment.posted":
            backend = connection.connection.info.backend_pid if connection.vendor == "postgresql" else None  # fmt: skip
            flag.write_text(json.dumps({"pid": os.getpid(), "backend_pid": backend}))
            go = flag.with_name(flag.name + ".go")
            deadline = time.monotonic() + HANG_SECONDS
            while not go.exists():
                if time.monotonic() > deadline:
                    raise SystemExit("nobody killed or released the posting")
                time.sleep(0.02)
        return entry

    domain.record = record


def pay(flag: str, account_id: str, cents: str, key: str, paid_at: str) -> None:
    from doorstep.strategy.domain import take_payment

    _hang_after_posting(Path(flag))
    moment = datetime.fromisoformat(paid_at)
    posted = take_payment(account_id, amount_cents=int(cents), paid_at=moment, by="failure",
                          idempotency_key=key, at=moment)  # fmt: skip
    print(f"posted entry {posted.entry.pk}")


def callback(flag: str, body_file: str, signature: str) -> None:
    from django.utils import timezone

    from doorstep.payments.domain import apply_callback

    _hang_after_posting(Path(flag))
    intent = apply_callback(Path(body_file).read_bytes(), signature, at=timezone.now())
    print(f"intent {intent.pk} {intent.state}")


if __name__ == "__main__":
    main(sys.argv[1:])
