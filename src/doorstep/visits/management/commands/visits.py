"""doorstep visits plan|dispatch|follow-ups|approve: the visit workflow's scheduled steps."""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from doorstep.ledger.models import Region
from doorstep.visits import domain
from doorstep.visits.errors import VisitError


class Command(BaseCommand):
    help = "Plan a day's visits and send their notices, dispatch the day, review follow-ups."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="step", required=True)
        plan = sub.add_parser("plan", help="route approved visits for DAY and send the notices")
        dispatch = sub.add_parser("dispatch", help="on DAY: route each team's noticed visits")
        for p in (plan, dispatch):
            p.add_argument("--day", type=date.fromisoformat, required=True)
            p.add_argument("--region", action="append", help="region code (default: all)")
        follow = sub.add_parser("follow-ups", help="close promises whose date has passed")
        follow.add_argument("--as-of", type=date.fromisoformat, required=True)
        approve = sub.add_parser("approve", help="approve proposals (a supervisor's step)")
        approve.add_argument("ids", nargs="+")
        for p in (plan, dispatch, follow, approve):
            p.add_argument("--by", default="scheduler")
            p.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, step, by, as_json, **options):
        now = timezone.now()
        try:
            if step == "follow-ups":
                result = domain.review_follow_ups(options["as_of"], by=by, at=now)
            elif step == "approve":
                result = {"approved": len(domain.approve_visits(options["ids"], by=by, at=now))}
            else:
                act = domain.plan_notices if step == "plan" else domain.dispatch_day
                regions = options["region"] or list(
                    Region.objects.exclude(field_coverage="none").values_list("code", flat=True)
                )
                result = {}
                for code in regions:
                    done = act(code, options["day"], by=by, at=now)
                    if done.noticed or done.carried:
                        result[code] = {
                            "planned": len(done.noticed),
                            "carried": done.carried,
                            "travel_km": round(done.travel_km, 1),
                            "solver_seconds": round(done.solver_seconds, 2),
                        }
        except VisitError as e:
            raise CommandError(f"{e.code}: {e.message}") from e
        self.stdout.write(json.dumps(result, default=str, ensure_ascii=False,
                                     indent=None if as_json else 2))  # fmt: skip
