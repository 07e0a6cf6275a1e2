"""Shared fixtures. The same suite runs on SQLite (default) and PostgreSQL (DATABASE_URL)."""

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PORTFOLIO = ROOT / "examples" / "portfolio"

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def portfolio_dir(tmp_path) -> Path:
    """A writable copy of the example portfolio in examples/portfolio."""
    target = tmp_path / "portfolio"
    shutil.copytree(EXAMPLE_PORTFOLIO, target)
    return target
