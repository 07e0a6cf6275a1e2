"""Where doorstep keeps its local state (`./var/`): the SQLite file, the secret key, the demo PII key.

Kept free of Django so settings can use it before Django is configured.
"""

import os
import secrets
from pathlib import Path


def var_dir() -> Path:
    path = Path(os.environ.get("DOORSTEP_VAR_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_or_create_secret(name: str, make) -> str:
    """Return the secret stored in var/<name>, creating it (owner-only) on first use.

    Two processes starting at once (test workers, a server and a command) must end up with the
    same secret: the new one is written whole to a private file, then linked into place, which
    fails for the loser, who reads the winner's."""
    path = var_dir() / name
    if path.exists():
        return path.read_text().strip()
    draft = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(make() + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def new_token() -> str:
    return secrets.token_urlsafe(50)
