"""The visits app's exception types: a user-safe message and a stable code."""


class VisitError(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class InvalidTransition(VisitError):
    """The move is not in the transition table, or its preconditions fail."""


class VisitNotAllowed(VisitError):
    """The compliance guard refused a step; `refusal` is the recorded Refusal."""

    def __init__(self, message: str, *, code: str, refusal=None):
        super().__init__(message, code=code)
        self.refusal = refusal
