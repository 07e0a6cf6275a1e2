"""The contact app's one exception type: a user-safe message and a stable code."""


class ContactRejected(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code
