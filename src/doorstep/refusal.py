"""A refusal a person reads, kept as an English template and its figures (pure: no Django, so the
engines raise it too). `message` is the English text; doorstep.errors adds the translation.
Templates are marked where they are raised with `gettext_noop`, so `make messages` collects them."""


def gettext_noop(text: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return text


class Refusal(Exception):
    def __init__(self, message: str, *, params: dict | None = None):
        self.template = message
        self.params = params or {}
        self.message = message % {k: getattr(v, "message", v) for k, v in self.params.items()}
        super().__init__(self.message)
