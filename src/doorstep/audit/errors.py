class AuditError(Exception):
    """A refused audit operation; `code` is stable, the message is safe to show."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code
