"""The ledger's one exception type: an English template with its figures and a stable code
(doorstep.errors.UserError), so a page shows it in its reader's language (`translated()`) and
the API, the commands and the logs keep the English `message`."""

from doorstep.errors import UserError


class LedgerError(UserError):
    pass


class PaymentRejected(LedgerError):
    """A payment that cannot be posted (unknown account, non-positive amount, settled...)."""


class IdempotencyConflict(LedgerError):
    """The idempotency key was used before for a different request."""


class HoldRejected(LedgerError):
    """A hold that cannot be placed (unknown account or kind, dates out of order, duplicate)."""


class WaiverRejected(LedgerError):
    """A waiver that cannot be posted (settled account, more than the charges left to waive)."""
