"""doorstep send --day DATE: the day's planned messages through the guard and out."""

import getpass
from datetime import date

from django.core.management.base import BaseCommand
from django.utils import timezone

from doorstep.strategy.sending import send_planned_messages


class Command(BaseCommand):
    help = (
        "Send the messages the nightly run of the day before planned for DATE: each asks the "
        "compliance guard again now, then goes into the outbox, which is drained."
    )

    def add_arguments(self, parser):
        parser.add_argument("--day", type=date.fromisoformat, default=None)
        parser.add_argument("--by", default=None)

    def handle(self, day, by, **options):
        day = day or timezone.localdate()
        result = send_planned_messages(day, by=by or f"cli:{getpass.getuser()}", now=timezone.now())
        self.stdout.write(f"{result.queued:,} messages queued for {day}; outbox: {result.outbox}")
        for rule, count in sorted(result.refused.items()):
            self.stdout.write(f"  refused by {rule}: {count:,}")
        for reason, count in sorted(result.skipped.items()):
            self.stdout.write(f"  skipped ({reason}): {count:,}")
