"""The arrangements tests' accounts A1 and A2."""

from tests.arrangements.conftest import accounts  # noqa: F401
