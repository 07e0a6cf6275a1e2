"""doorstep contact check --account ID --channel CH [--purpose P] --at ISO8601 [--json]
doorstep contact send [--limit N] [--enqueue]"""

import getpass
import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from doorstep.compliance import domain
from doorstep.compliance.engine.checks import Action
from doorstep.compliance.engine.pack import CHANNELS
from doorstep.contact import tasks
from doorstep.contact.domain import drain_outbox
from doorstep.ledger.models import Account


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("give the time with its UTC offset, e.g. 2026-11-20T20:59:59+08:00")
    return value


class Command(BaseCommand):
    help = (
        "check: ask the compliance guard whether a contact would be allowed (records nothing); "
        "send: hand queued messages to the channel providers."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="would this contact be allowed?")
        check.add_argument("--account", required=True)
        check.add_argument("--channel", required=True, choices=CHANNELS)
        check.add_argument("--purpose", default="collection")
        check.add_argument(
            "--at", type=_instant, default=None, help="ISO 8601 with offset (default: now)"
        )
        check.add_argument("--template", default=None)
        check.add_argument("--third-party", default=None)
        check.add_argument("--lang", choices=["zh", "en"], default="en")
        check.add_argument("--json", action="store_true", dest="as_json")
        send = sub.add_parser(
            "send",
            help="drain the outbox through the channel backends; ask again about stuck messages",
        )
        send.add_argument("--limit", type=int, default=100)
        send.add_argument(
            "--enqueue",
            action="store_true",
            help="hand the drain to the background worker (doorstep db_worker) and return",
        )

    def handle(self, action, **options):
        if action == "send":
            if options["enqueue"]:
                queued = tasks.drain_outbox.enqueue(limit=options["limit"])
                self.stdout.write(f"outbox drain enqueued: task {queued.id}")
                return
            counts = drain_outbox(limit=options["limit"], now=timezone.now())
            stuck = {k: v for k, v in counts.items() if k.startswith("stuck_")}
            if any(stuck.values()):
                self.stdout.write(
                    f"stuck while being sent, asked again: sent {stuck['stuck_sent']}, failed "
                    f"{stuck['stuck_failed']}, errors {stuck['stuck_error']}"
                )
            self.stdout.write(
                f"sent {counts['sent']}, failed {counts['failed']}, errors {counts['error']}"
            )
            return
        account = Account.objects.filter(pk=options["account"]).only("borrower_id").first()
        if account is None:
            raise CommandError(f"no account {options['account']}")
        verdict = domain.check(
            Action(
                account_id=options["account"],
                borrower_id=account.borrower_id,
                channel=options["channel"],
                purpose=options["purpose"],
                actor=f"cli:{getpass.getuser()}",
                planned_at=options["at"] or timezone.now(),
                template=options["template"],
                third_party_id=options["third_party"],
            )
        )
        reason = verdict.reason(options["lang"])
        rule = verdict.rule.id if verdict.rule else None
        if options["as_json"]:
            self.stdout.write(json.dumps({"allowed": verdict.allowed, "rule": rule, "reason": reason},
                                         ensure_ascii=False))  # fmt: skip
        elif verdict.allowed:
            self.stdout.write(f"allowed under {domain.active_pack().label}")
        else:
            self.stdout.write(
                f"refused by {rule} ({verdict.rule.source}): {reason}\n  {verdict.rule.citation}"
            )
