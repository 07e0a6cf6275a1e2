"""doorstep demo: the whole product on the embedded default, from nothing, in one command."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from doorstep.audit.domain import anchor_path
from doorstep.compliance.domain import review_template
from doorstep.contact.domain import draft_default_templates
from doorstep.intake.importer import import_portfolio
from doorstep.ledger.models import Account
from doorstep.strategy.domain import run_nightly
from doorstep.strategy.models import Decision
from doorstep.synth import generate_portfolio, last_closed_day
from doorstep.visits.models import Visit
from doorstep.web.domain import (
    demo_borrower_phones,
    ensure_demo_agency,
    ensure_demo_field_teams,
    ensure_demo_logins,
)


class Command(BaseCommand):
    help = "Create the database, load a synthetic demo portfolio, create one login per role, and serve the site."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--accounts", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--fresh", action="store_true", help="empty the database and load anew")
        parser.add_argument("--no-serve", action="store_true", help="prepare everything, then exit")

    def handle(self, port, accounts, seed, fresh, no_serve, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if fresh:
            self._discard_audit_trail()
        existing = Account.objects.count()
        if existing and not fresh:
            self.stdout.write(
                f"portfolio already loaded ({existing:,} accounts); --fresh to rebuild"
            )
        else:
            self._load(accounts, seed)
        drafted = draft_default_templates(by="demo-writer")
        for template in drafted:
            review_template(template.pk, by="compliance_officer", approve=True, note="demo")
        if drafted:
            self.stdout.write(f"{len(drafted)} message templates drafted and approved (demo)")
        yesterday = timezone.localdate() - timedelta(days=1)
        if not Decision.objects.filter(as_of=yesterday).exists():
            result = run_nightly(yesterday, by="demo")
            self.stdout.write(
                f"nightly run as of {yesterday}: {result.accounts:,} accounts decided, "
                f"{result.actions:,} actions planned in {result.seconds:.1f} s "
                f"(doorstep explain ACCOUNT_ID --as-of {yesterday} says why)"
            )
        logins = ensure_demo_logins(lambda role: f"demo-{role}")
        teams = ensure_demo_field_teams(at=timezone.now())
        ensure_demo_agency(at=timezone.now())
        proposed = Visit.objects.filter(state="proposed").count()
        self.stdout.write(
            f"{proposed:,} home visits proposed by the nightly run; field teams {', '.join(teams)}. "
            "A field_supervisor approves them at /visits/review/, then "
            "`doorstep visits plan --day DATE` (3+ days ahead) routes them and sends the notices."
        )
        self.stdout.write("\nDemo logins (local demo only; change or remove before real use):")
        for label, username, password in logins:
            self.stdout.write(f"  {label:<36} {username:<20} {password}")
        for stage, phone in demo_borrower_phones():
            self.stdout.write(
                f"  Borrower (借款人) in stage {stage:<12} /my/  phone {phone}  (the one-time code "
                "shows on the page: SMS goes to the local outbox)"
            )
        url = f"http://127.0.0.1:{port}/"
        if no_serve:
            self.stdout.write(f"\nready; serve with: doorstep demo --port {port}")
            return
        self.stdout.write(f"\ndoorstep is at {url}  (Ctrl-C stops it)\n")
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True)

    def _discard_audit_trail(self) -> None:
        """The database refuses to delete audit entries and recent collection records, so a fresh
        demo drops the audit tables and the retention triggers (a schema owner's act, which real
        data never sees), empties the rest, and sets the old anchors aside."""
        call_command("migrate", "audit", "zero", interactive=False, verbosity=0)
        # Collection records are kept five years by trigger; a demo's are not records of anyone.
        call_command("migrate", "compliance", "0001", interactive=False, verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", interactive=False, verbosity=0)
        anchors = anchor_path()
        if anchors.exists():
            anchors.rename(anchors.with_suffix(f".discarded-{timezone.now():%Y%m%d%H%M%S}"))

    def _load(self, accounts: int, seed: int) -> None:
        # The portfolio stands as of yesterday's close, like a lender's nightly extract: nothing
        # in it can be later than now (in Urumqi's zone too, whose day ends two hours later).
        as_of = last_closed_day(timezone.now(), settings.TIME_ZONE)
        directory = Path(settings.VAR_DIR) / "demo-portfolio"
        directory.mkdir(parents=True, exist_ok=True)
        self.stdout.write(
            f"generating {accounts:,} synthetic accounts as of {as_of} (seed {seed})…"
        )
        counts = generate_portfolio(directory, accounts=accounts, seed=seed, as_of=as_of)
        self.stdout.write(f"  {counts.rows:,} rows written to {directory}")
        result = import_portfolio(directory, by="demo")
        rate = result.total_read / result.seconds if result.seconds else 0
        self.stdout.write(
            f"  imported {result.total_read:,} rows in {result.seconds:.1f} s ({rate:,.0f} rows/s)"
        )
