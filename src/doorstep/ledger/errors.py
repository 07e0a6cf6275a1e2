"""The ledger's one exception type: a user-safe message and a stable code."""


class LedgerError(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class PaymentRejected(LedgerError):
    """A payment that cannot be posted (unknown account, non-positive amount, settled...)."""


class IdempotencyConflict(LedgerError):
    """The idempotency key was used before for a different request."""


class HoldRejected(LedgerError):
    """A hold that cannot be placed (unknown account or kind, dates out of order, duplicate)."""


class WaiverRejected(LedgerError):
    """A waiver that cannot be posted (settled account, more than the charges left to waive)."""
