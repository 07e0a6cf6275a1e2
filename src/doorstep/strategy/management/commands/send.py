"""doorstep send [--day DATE] [--enqueue]: the day's planned messages through the guard and out."""

import getpass
from datetime import date

from django.core.management.base import BaseCommand
from django.utils import timezone

from doorstep.strategy import tasks
from doorstep.strategy.sending import send_planned_messages


class Command(BaseCommand):
    help = (
        "Send the messages the nightly run of the day before planned for DATE: each asks the "
        "compliance guard again now, then goes into the outbox, which is drained."
    )

    def add_arguments(self, parser):
        parser.add_argument("--day", type=date.fromisoformat, default=None)
        parser.add_argument("--by", default=None)
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="hand the sending to the background worker (doorstep db_worker) and return",
        )

    def handle(self, day, by, enqueue, **options):
        day = day or timezone.localdate()
        by = by or f"cli:{getpass.getuser()}"
        if enqueue:
            queued = tasks.send_planned.enqueue(day.isoformat(), by=by)
            self.stdout.write(f"sending of {day}'s messages enqueued: task {queued.id}")
            return
        result = send_planned_messages(day, by=by, now=timezone.now())
        self.stdout.write(f"{result.queued:,} messages queued for {day}; outbox: {result.outbox}")
        for rule, count in sorted(result.refused.items()):
            self.stdout.write(f"  refused by {rule}: {count:,}")
        for reason, count in sorted(result.skipped.items()):
            self.stdout.write(f"  skipped ({reason}): {count:,}")
