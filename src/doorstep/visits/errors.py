"""The visits app's exception types: an English template with its figures and a stable code
(doorstep.errors.UserError); pages show `translated()`, the API and the commands `message`."""

from doorstep.errors import UserError


class VisitError(UserError):
    pass


class InvalidTransition(VisitError):
    """The move is not in the transition table, or its preconditions fail."""


class VisitNotAllowed(VisitError):
    """The compliance guard refused a step; `refusal` is the recorded Refusal."""

    def __init__(self, message: str, *, code: str, params: dict | None = None, refusal=None):
        super().__init__(message, code=code, params=params)
        self.refusal = refusal
