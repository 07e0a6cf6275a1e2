"""The complaints app's exception type: a user-safe message (readable in the borrower's language,
doorstep.errors), a stable code, and the field."""

from doorstep.errors import UserError


class CaseError(UserError):
    pass
