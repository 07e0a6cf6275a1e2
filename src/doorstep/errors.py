"""Refusals a person reads (a borrower on the portal, a collector in the queue).

A refusal keeps its English template and its figures apart: `message` is the English text (logs,
the API, the commands and the tests match it), `translated()` the same in the request's language
from the catalogue. Templates are marked where they are raised with `gettext_noop`, so
`make messages` collects them; a figure that is itself a refusal (a rejected upload inside a
rejected request) is rendered in the same language.
"""

from django.utils.translation import gettext


def _english(value):
    return getattr(value, "message", value)


def _local(value):
    if isinstance(value, UserError):
        return value.translated()
    if hasattr(value, "template") and hasattr(value, "params"):  # a pure engine's refusal
        return gettext(value.template) % {k: _local(v) for k, v in value.params.items()}
    return value


class UserError(Exception):
    def __init__(self, message: str, *, code: str, field: str = "", params: dict | None = None):
        self.template = message
        self.params = params or {}
        self.code = code
        self.field = field
        self.message = message % {k: _english(v) for k, v in self.params.items()}
        super().__init__(self.message)

    def translated(self) -> str:
        """The message in the active language (English where the catalogue has no entry)."""
        return gettext(self.template) % {k: _local(v) for k, v in self.params.items()}
