"""The `doorstep` command: Django's manage.py with doorstep's own subcommands.

`doorstep import DIR`, `doorstep generate DIR`, `doorstep ledger check`, `doorstep demo`,
`doorstep bench ledger` and every Django command (migrate, createsuperuser, ...).
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["doorstep", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
