"""Fixtures shared with the arrangements tests."""

from tests.arrangements.conftest import accounts, on_the_as_of_day  # noqa: F401
