"""The arrangements app's exception type: a user-safe message (readable in the borrower's language,
doorstep.errors), a stable code, and the field."""

from doorstep.errors import UserError


class ArrangementError(UserError):
    pass


class InvalidTransition(ArrangementError):
    """The workflow does not allow this step from the arrangement's current state."""


class NotAuthorised(ArrangementError):
    """The staff member's approval authority does not reach this arrangement."""
