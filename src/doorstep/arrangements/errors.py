"""The arrangements app's exception type: a user-safe message, a stable code, and the field."""


class ArrangementError(Exception):
    def __init__(self, message: str, *, code: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class InvalidTransition(ArrangementError):
    """The workflow does not allow this step from the arrangement's current state."""


class NotAuthorised(ArrangementError):
    """The staff member's approval authority does not reach this arrangement."""
