"""Refusals a person reads (a borrower on the portal, a collector in the queue).

A refusal keeps its English template and its figures apart: `message` is the English text (logs,
the API, the commands and the tests match it), `translated()` the same in the request's language
from the catalogue. Templates are marked where they are raised with `gettext_noop`, so
`make messages` collects them; a figure that is itself a refusal (a rejected upload inside a
rejected request) is rendered in the same language.
"""

from django.utils.translation import gettext

from doorstep.refusal import Refusal


def translated(refusal: Refusal) -> str:
    """A refusal in the active language (English where the catalogue has no entry), the figures
    that are refusals themselves included."""
    return gettext(refusal.template) % {
        k: translated(v) if isinstance(v, Refusal) else v for k, v in refusal.params.items()
    }


class UserError(Refusal):
    def __init__(self, message: str, *, code: str, field: str = "", params: dict | None = None):
        super().__init__(message, params=params)
        self.code = code
        self.field = field

    def translated(self) -> str:
        return translated(self)
