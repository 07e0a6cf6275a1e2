"""Claiming and releasing queue items. The unique constraint on (kind, item) is what makes a
claim exclusive: two people claiming at once race on the insert and exactly one wins."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_noop

from doorstep.audit.domain import record
from doorstep.errors import UserError
from doorstep.worklist.models import Claim


class ClaimRefused(UserError):
    """Someone else works on the item (`holder`): an English template and its figures."""

    def __init__(self, message: str, *, code: str, holder: str = "", params: dict | None = None):
        super().__init__(message, code=code, params=params)
        self.holder = holder


def claim(kind: str, item: str, *, by: str, at: datetime) -> Claim:
    """Take an item, or renew one's own claim. A lapsed claim of someone else is taken over.
    Side effects: the Claim row; an audit entry (work.claimed). Raises ClaimRefused."""
    expires = at + timedelta(minutes=settings.DOORSTEP_CLAIM_MINUTES)
    with transaction.atomic():
        current = Claim.objects.select_for_update().filter(kind=kind, item=item).first()
        if current is not None:
            if current.claimed_by != by and current.expires_at > at:
                raise ClaimRefused(
                    gettext_noop("%(holder)s is working on it"), code="work.taken",
                    holder=current.claimed_by, params={"holder": current.claimed_by},
                )  # fmt: skip
            previous = current.claimed_by
            current.claimed_by, current.claimed_at, current.expires_at = by, at, expires
            current.save()
            record("work.claimed", actor=by, at=at,
                   data={"kind": kind, "item": item, "from": previous})  # fmt: skip
            return current
        try:
            with transaction.atomic():
                made = Claim.objects.create(
                    kind=kind, item=item, claimed_by=by, claimed_at=at, expires_at=expires
                )
        except IntegrityError:
            holder = (
                Claim.objects.filter(kind=kind, item=item)
                .values_list("claimed_by", flat=True)
                .first()
            )
            raise ClaimRefused(
                gettext_noop("%(holder)s is working on it"), code="work.taken",
                holder=holder or "", params={"holder": holder},
            ) from None  # fmt: skip
        record("work.claimed", actor=by, at=at, data={"kind": kind, "item": item})
        return made


def release(kind: str, item: str, *, by: str, at: datetime) -> bool:
    """Give an item back (only one's own claim). Returns whether there was one to release."""
    with transaction.atomic():
        deleted, _ = Claim.objects.filter(kind=kind, item=item, claimed_by=by).delete()
        if deleted:
            record("work.released", actor=by, at=at, data={"kind": kind, "item": item})
        return bool(deleted)


def holders(kind: str, items: list[str], *, at: datetime) -> dict[str, str]:
    """Who holds each of these items now (lapsed claims are free)."""
    return dict(
        Claim.objects.filter(kind=kind, item__in=items, expires_at__gt=at).values_list(
            "item", "claimed_by"
        )
    )
