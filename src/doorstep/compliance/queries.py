"""What the guard reads: one action's context from the database."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from doorstep import arrowdb
from doorstep.compliance.engine.checks import Action, Attempt, Context, Inconvenient, ThirdParty
from doorstep.compliance.models import CeaseRequest, InconvenientTime
from doorstep.contact.enums import MessageStatus
from doorstep.contact.models import Contact, Permit, Template, TemplateStatus, ThirdPartyContact
from doorstep.ledger.enums import AccountStatus
from doorstep.ledger.models import Account, Hold
from doorstep.placements.models import Placement
from doorstep.roundtrips import fetch_all

# Caps look back at most this far (the longest window in the shipped packs is 30 days).
LOOKBACK = timedelta(days=32)


def context_for(action: Action, account: Account, *, now=None, visit=None) -> Context:
    """`visit`: the visit's facts (checks.VisitFacts), which only the visits domain reads.

    Its reads go out in one round trip (`roundtrips.fetch_all`): every permit, check-in and case
    view asks for a context, and each read waited for the one before."""
    now = now or timezone.now()
    region = account.borrower.region
    zone = region.time_zone
    day = action.planned_at.astimezone(ZoneInfo(zone)).date()
    open_on_day = Q(since__lte=day) & (Q(until__isnull=True) | Q(until__gte=day))
    since = action.planned_at - LOOKBACK
    reads = [
        Hold.objects.filter(open_on_day, account=account).values_list("kind"),
        CeaseRequest.objects.filter(open_on_day, borrower_id=account.borrower_id).values_list(
            "channel"
        ),
        InconvenientTime.objects.filter(borrower_id=account.borrower_id).values_list(
            "weekday", "start", "end"
        ),
        Contact.objects.filter(
            account__borrower_id=account.borrower_id,
            at__gte=since,
            at__lte=action.planned_at,
            direction="outbound",
        ).values_list("at", "channel", "outcome", "third_party_id"),
        # A permit not yet used counts as an attempt until it expires: asking twice is not a
        # loophole. So does one whose message waits in the outbox (used, but no Contact until
        # it is sent).
        Permit.objects.filter(
            _pending_permit(now),
            borrower_id=account.borrower_id,
            planned_at__gte=since,
            planned_at__lte=action.planned_at,
        ).values_list("planned_at", "channel", "third_party_id"),
        Placement.objects.filter(open_on_day, account=account)
        .order_by("pk")
        .values_list("agency_id")[:1],
    ]
    # Read only when the action names them, after the fixed reads.
    optional = {}
    if action.template:
        optional["template"] = Template.objects.filter(
            code=action.template,
            channel=action.channel,
            language=account.borrower.language,
            status=TemplateStatus.APPROVED,
        ).values_list("pk")[:1]
    if action.third_party_id:
        optional["third_party"] = ThirdPartyContact.objects.filter(
            pk=action.third_party_id, borrower_id=account.borrower_id
        ).values_list("supplied_by", "relation", "employer_objected")[:1]
    holds, ceased, slots, contacts, permits, placement, *rest = fetch_all(
        *reads, *optional.values()
    )
    found = dict(zip(optional, rest, strict=True))
    template_ok = bool(found.get("template"))
    third_party = None
    if found.get("third_party"):
        ((supplied_by, relation, employer_objected),) = found["third_party"]
        third_party = ThirdParty(
            supplied_by_borrower=supplied_by == "borrower",
            is_employer=relation == "employer",
            employer_objected=employer_objected,
        )
    attempts = [Attempt(*row) for row in contacts]
    attempts += [Attempt(at, channel, None, party) for at, channel, party in permits]
    return Context(
        time_zone=zone,
        placed_with=placement[0][0] if placement else None,
        settled=account.status == AccountStatus.SETTLED or account.balance_cents <= 0,
        holds=frozenset(kind for (kind,) in holds),
        ceased=frozenset(channel for (channel,) in ceased),
        inconvenient=tuple(Inconvenient(*row) for row in slots),
        attempts=tuple(attempts),
        template_approved=template_ok,
        third_party=third_party,
        visit=visit,
    )


def bulk_context(*, since, now) -> dict:
    """The guard's context for a day's batch, as Arrow tables for `engine.bulk`: holds and cease
    requests that may be open, stated inconvenient times, outbound attempts (and unused permits)
    since `since`, approved templates, borrower-supplied third parties."""
    from doorstep.contact.models import ThirdPartyRelation

    day = since.date()
    holds = Hold.objects.filter(Q(until__isnull=True) | Q(until__gte=day)).values_list(
        "account_id", "kind", "since", "until"
    )
    placed = Placement.objects.filter(Q(until__isnull=True) | Q(until__gte=day)).values_list(
        "account_id", "since", "until"
    )
    ceased = CeaseRequest.objects.filter(Q(until__isnull=True) | Q(until__gte=day)).values_list(
        "borrower_id", "channel", "since", "until"
    )
    slots = InconvenientTime.objects.values_list("borrower_id", "weekday", "start", "end")
    attempts = _attempts_since(since, now)
    templates = Template.objects.filter(status=TemplateStatus.APPROVED).values_list(
        "code", "channel", "language"
    )
    parties = ThirdPartyContact.objects.values_list(
        "id", "supplied_by", "relation", "employer_objected"
    )
    return {
        "placements": pa.Table.from_pylist(
            [{"account_id": a, "since": s, "until": u} for a, s, u in placed],
            pa.schema(
                [("account_id", pa.string()), ("since", pa.date32()), ("until", pa.date32())]
            ),
        ),
        "holds": pa.Table.from_pylist(
            [{"account_id": a, "kind": k, "since": s, "until": u} for a, k, s, u in holds],
            pa.schema(
                [
                    ("account_id", pa.string()),
                    ("kind", pa.string()),
                    ("since", pa.date32()),
                    ("until", pa.date32()),
                ]
            ),
        ),
        "ceased": pa.Table.from_pylist(
            [{"borrower_id": b, "channel": c, "since": s, "until": u} for b, c, s, u in ceased],
            pa.schema(
                [
                    ("borrower_id", pa.string()),
                    ("channel", pa.string()),
                    ("since", pa.date32()),
                    ("until", pa.date32()),
                ]
            ),
        ),
        "inconvenient": pa.Table.from_pylist(
            [
                {
                    "borrower_id": b,
                    "weekday": w,
                    "start_s": s.hour * 3600 + s.minute * 60 + s.second,
                    "end_s": e.hour * 3600 + e.minute * 60 + e.second,
                }
                for b, w, s, e in slots
            ],
            pa.schema(
                [
                    ("borrower_id", pa.string()),
                    ("weekday", pa.int32()),
                    ("start_s", pa.int64()),
                    ("end_s", pa.int64()),
                ]
            ),
        ),
        "attempts": attempts,
        "templates": pa.Table.from_pylist(
            [{"template": c, "channel": ch, "language": lang} for c, ch, lang in templates],
            pa.schema(
                [("template", pa.string()), ("channel", pa.string()), ("language", pa.string())]
            ),
        ),
        "third_parties": pa.Table.from_pylist(
            [
                {
                    "third_party_id": i,
                    "supplied_by_borrower": s == "borrower",
                    "is_employer": r == ThirdPartyRelation.EMPLOYER,
                    "employer_objected": o,
                }
                for i, s, r, o in parties
            ],
            pa.schema(
                [
                    ("third_party_id", pa.string()),
                    ("supplied_by_borrower", pa.bool_()),
                    ("is_employer", pa.bool_()),
                    ("employer_objected", pa.bool_()),
                ]
            ),
        ),
    }


def _pending_permit(now):
    """Permits that count as attempts without a Contact: unused and unexpired, or used by a
    message still waiting in the outbox."""
    return Q(used_at__isnull=True, valid_until__gte=now) | Q(
        message__status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]
    )


ATTEMPTS = pa.schema(
    [
        ("borrower_id", pa.string()),
        ("at", pa.timestamp("s", tz="UTC")),
        ("channel", pa.string()),
        ("outcome", pa.string()),
        ("third_party_id", pa.string()),
    ]
)


# As the queries return them: epoch seconds, and text.
_READ_TYPE = {"at": pa.int64()}


def _attempts_since(since, now) -> pa.Table:
    """Outbound contacts and unused permits since `since`, straight from SQL (the ORM's converters
    cost more than the guard's whole statement at a million accounts): as Arrow through ADBC
    when nothing uncommitted needs seeing (a night's screening: 7 s less at a million accounts),
    else through Django's cursor."""
    vendor = connection.vendor
    # NULLs coalesced to '' and restored below: ADBC's SQLite driver types a column by its first
    # rows.
    contacts = (
        f"SELECT a.borrower_id, {arrowdb.epoch_seconds_sql('c.at', vendor)} AS at, c.channel, "
        "COALESCE(c.outcome, '') AS outcome, COALESCE(c.third_party_id, '') AS third_party_id "
        "FROM contact_contact c JOIN ledger_account a ON a.id = c.account_id "
        "WHERE c.at >= {since} AND c.direction = 'outbound'"
    )
    permits = (
        f"SELECT p.borrower_id, {arrowdb.epoch_seconds_sql('p.planned_at', vendor)} AS at, p.channel, '' AS outcome, "
        "COALESCE(p.third_party_id, '') AS third_party_id FROM contact_permit p "
        "LEFT JOIN contact_outboundmessage m ON m.permit_id = p.id "
        "WHERE p.planned_at >= {since} AND ((p.used_at IS NULL AND p.valid_until >= {now}) "
        f"OR m.status IN ('{MessageStatus.QUEUED}', '{MessageStatus.SENDING}'))"
    )
    if arrowdb.usable():
        since_sql, now_sql = _timestamp_literal(since), _timestamp_literal(now)
        with arrowdb.adbc_connect() as adbc, adbc.cursor() as cursor:
            tables = []
            for sql in (contacts, permits):
                cursor.execute(sql.format(since=since_sql, now=now_sql))
                tables.append(cursor.fetch_arrow_table())
        columns = {
            name: pa.chunked_array(
                [
                    chunk
                    for t in tables
                    for chunk in t.column(name).cast(_READ_TYPE.get(name, pa.string())).chunks
                ],
                _READ_TYPE.get(name, pa.string()),
            )
            for name in ATTEMPTS.names
        }
    else:
        adapt = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            cursor.execute(contacts.format(since="%s"), [adapt(since)])
            rows = cursor.fetchall()
            cursor.execute(permits.format(since="%s", now="%s"), [adapt(since), adapt(now)])
            rows += cursor.fetchall()
        values = list(zip(*rows, strict=True)) if rows else [[], [], [], [], []]
        columns = {
            name: pa.array(values[i], _READ_TYPE.get(name, pa.string()))
            for i, name in enumerate(ATTEMPTS.names)
        }
    at = columns["at"].cast(pa.timestamp("s")).cast(pa.timestamp("s", tz="UTC"))
    empty_to_null = {
        name: pc.if_else(pc.equal(columns[name], ""), None, columns[name])
        for name in ("outcome", "third_party_id")
    }
    return pa.table(
        {
            "borrower_id": columns["borrower_id"],
            "at": at,
            "channel": columns["channel"],
            **empty_to_null,
        },
        schema=ATTEMPTS,
    )


def _timestamp_literal(moment) -> str:
    """A datetime as SQL, compared as each database stores datetimes (SQLite: UTC text)."""
    value = connection.ops.adapt_datetimefield_value(moment)
    if connection.vendor == "postgresql":
        return f"TIMESTAMPTZ '{value.isoformat()}'"
    return f"'{value}'"
