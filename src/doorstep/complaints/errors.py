"""The complaints app's exception type: a user-safe message, a stable code, and the field."""


class CaseError(Exception):
    def __init__(self, message: str, *, code: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
