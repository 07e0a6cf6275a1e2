"""doorstep audit verify [--json] | doorstep audit anchor"""

import getpass
import json

from django.core.management.base import BaseCommand, CommandError

from doorstep.audit.domain import anchor, anchor_path, verify


class Command(BaseCommand):
    help = "The audit trail: `verify` recomputes the hash chain; `anchor` records its head."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("verify", help="recompute the chain; name the first bad entry")
        check.add_argument("--json", action="store_true", help="print the result as JSON")
        mark = sub.add_parser("anchor", help="record the head in the anchor table and file")
        mark.add_argument("--by", default=None, help="who anchors (default: the OS user)")

    def handle(self, action, **options):
        if action == "anchor":
            return self._anchor(options["by"] or f"cli:{getpass.getuser()}")
        result = verify()
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        elif result.ok:
            self.stdout.write(
                f"audit trail intact: {result.entries:,} entries, head {result.head_seq} "
                f"{result.head_hash[:16]}…, {result.anchors_checked} anchors checked "
                f"({result.seconds:.2f} s)"
            )
        else:
            for problem in result.problems[:20]:
                self.stderr.write(f"  seq {problem.seq} [{problem.kind}] {problem.message}")
        if not result.ok:
            first = result.first
            raise CommandError(
                f"audit trail broken at seq {first.seq}"
                + (f" ({first.code})" if first.code else "")
                + f": {first.message} ({len(result.problems)} problems)"
            )

    def _anchor(self, by: str) -> None:
        # Anchoring a chain that is already broken would vouch for the damage.
        result = verify()
        if not result.ok:
            raise CommandError(f"not anchoring a broken chain: {result.first.message}")
        row = anchor(by=by)
        self.stdout.write(f"anchored entry {row.seq} {row.hash[:16]}… in {anchor_path()}")
