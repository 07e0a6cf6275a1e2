"""Refusals a person reads (a borrower on the portal, a collector in the queue).

A refusal keeps its English template and its figures apart: `message` is the English text (logs,
the API, the commands and the tests match it), `translated()` the same in the request's language
from the catalogue. Templates are marked where they are raised with `gettext_noop`, so
`make messages` collects them; a figure that is itself a refusal (a rejected upload inside a
rejected request) is rendered in the same language.
"""

from collections.abc import Callable

from django.utils.functional import Promise, lazy
from django.utils.translation import gettext, override

from doorstep.refusal import Refusal


def translated(refusal: Refusal) -> str:
    """A refusal in the active language (English where the catalogue has no entry), the figures
    that are refusals themselves included."""
    return gettext(refusal.template) % {
        k: translated(v) if isinstance(v, Refusal) else v for k, v in refusal.params.items()
    }


def in_language(render: Callable[[], str]) -> Promise:
    """A figure whose words depend on the language it is read in (a choice's label, the guard's
    reason kept in both languages): rendered when the refusal is, English in `message`, the
    reader's language in `translated()`."""
    return lazy(render, str)()


class UserError(Refusal):
    def __init__(self, message: str, *, code: str, field: str = "", params: dict | None = None):
        if any(isinstance(v, Promise | Refusal) for v in (params or {}).values()):
            # A lazy label renders in the active language: a refusal raised while a Chinese page
            # is served would otherwise log, answer the API and match the tests in Chinese.
            with override("en"):
                super().__init__(message, params=params)
        else:
            super().__init__(message, params=params)
        self.code = code
        self.field = field

    def translated(self) -> str:
        return translated(self)
