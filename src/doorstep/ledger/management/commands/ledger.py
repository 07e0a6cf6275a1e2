"""doorstep ledger check | doorstep ledger position ACCOUNT [--as-of DATE]"""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from doorstep.ledger.domain import assess_charges, check_ledger
from doorstep.ledger.models import Account
from doorstep.ledger.queries import account_position
from doorstep.money import yuan


class Command(BaseCommand):
    help = "Ledger maintenance: `check` re-derives every balance from the entries; `position` explains one account."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("check", help="re-derive every account's figures and report any difference")
        assess = sub.add_parser(
            "assess-charges", help="post late fees and penalty interest for a day (or a range)"
        )
        assess.add_argument("--as-of", type=date.fromisoformat, required=True)
        assess.add_argument("--through", type=date.fromisoformat, default=None)
        show = sub.add_parser("position", help="an account's figures as of a date")
        show.add_argument("account_id")
        show.add_argument("--as-of", type=date.fromisoformat, default=None)

    def handle(self, action, **options):
        if action == "assess-charges":
            day, last = options["as_of"], options["through"] or options["as_of"]
            while day <= last:
                posted = assess_charges(day, by="ledger assess-charges")
                self.stdout.write(
                    f"{day}: {posted.late_fees} late fees, {posted.penalty_entries} penalty "
                    f"accruals totalling {yuan(posted.penalty_cents)}"
                )
                day += timedelta(days=1)
            return
        if action == "check":
            checked, differences = check_ledger()
            for d in differences:
                self.stdout.write(
                    f"{d.account_id}: {d.field} stored {d.stored} but entries give {d.derived}"
                )
            if differences:
                raise CommandError(f"{len(differences)} differences in {checked:,} accounts")
            self.stdout.write(
                f"ledger consistent: {checked:,} accounts re-derived from their entries"
            )
            return
        account = Account.objects.filter(pk=options["account_id"]).first()
        if account is None:
            raise CommandError(f"account {options['account_id']} does not exist")
        as_of = options["as_of"] or timezone.localdate()
        p = account_position(account, as_of)
        self.stdout.write(
            f"{account.id} as of {as_of}: DPD {p.dpd} ({p.bucket}), overdue {yuan(p.overdue)}, "
            f"outstanding {yuan(p.outstanding)}, paid {yuan(p.credited)}"
        )
        for component, cents in p.overdue_by_component().items():
            if cents:
                self.stdout.write(f"  overdue {component}: {yuan(cents)}")
