"""Files people upload (visit evidence, hardship documents, complaint attachments): the type is
judged by the file's first bytes, never its name, and the size is bounded. Pure: no Django."""

from dataclasses import dataclass

from doorstep.refusal import Refusal, gettext_noop

# Magic bytes -> (content type, extension, what it is).
ACCEPTED = {
    b"\xff\xd8\xff": ("image/jpeg", "jpg", "photo"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png", "photo"),
    b"%PDF-": ("application/pdf", "pdf", "document"),
}


class UploadRejected(Refusal, ValueError):
    def __init__(self, message: str, *, code: str, params: dict | None = None):
        super().__init__(message, params=params)
        self.code = code


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str
    kind: str  # photo | document


def sniff(content: bytes, *, max_bytes: int) -> Sniffed:
    """What the upload is, or UploadRejected (empty, too large, not a JPEG, PNG or PDF)."""
    if not content or len(content) > max_bytes:
        raise UploadRejected(
            gettext_noop("a file must be between 1 byte and %(mb)s MB"),
            code="upload.size",
            params={"mb": max_bytes // (1024 * 1024)},
        )
    for magic, found in ACCEPTED.items():
        if content.startswith(magic):
            return Sniffed(*found)
    raise UploadRejected(
        gettext_noop("only JPEG or PNG photos and PDF documents are accepted"), code="upload.type"
    )
