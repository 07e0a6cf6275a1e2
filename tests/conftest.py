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


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_triggers():
    """Transactional tests end with a flush (DELETE on SQLite, TRUNCATE on PostgreSQL) that the
    audit tables' triggers refuse: lift them around the flush, as the database's owner would."""
    from django.db import connection

    from tests.audit.dba import TABLES, statements

    operations = type(connection.ops)
    original = operations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        flush = original(self, style, tables, **kwargs)
        if not set(tables) & set(TABLES):
            return flush
        lift, restore = statements(self.connection.vendor)
        return [*lift, *flush, *restore]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(operations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def _product_language():
    """Every test starts in the product's language (LANGUAGE_CODE, Simplified Chinese): a request
    through the test client activates its own language in the thread, and without this a later test
    on the same worker would inherit it, so which language a test saw hung on test order. A test
    about English text says so with translation.override("en")."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def today_is_a_working_day(monkeypatch):
    """For tests that act at the real present (the browser walks, the console): the pack's quiet
    days (public holidays) would refuse every contact on such a day and fail them for a reason
    that is not theirs. The quiet-day rule has its own tests with fixed dates."""
    from doorstep.compliance import domain

    pack = domain.active_pack()
    monkeypatch.setattr(domain, "active_pack", lambda: pack.model_copy(update={"quiet_days": ()}))


@pytest.fixture
def run_worker():
    """Run `doorstep db_worker --batch` in this process: every ready job, then return. The worker
    installs its own SIGINT/SIGTERM handlers; they are put back afterwards. Needs a transactional
    test (the worker checks its connection between jobs, which closes a test's open transaction)."""
    import signal

    from django.core.management import call_command

    def run(worker_id: str | None = "test-worker") -> None:
        saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
        named = ["--worker-id", worker_id] if worker_id else []
        try:
            call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload",
                         "--interval", "0", *named, verbosity=0)  # fmt: skip
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)

    return run


def pytest_collection_modifyitems(config, items):
    """Tests marked slow (the nightly kill runs: minutes each) run only when a -m expression names
    them or their `failure` mark: `make failure-tests` does."""
    expression = config.getoption("markexpr") or ""
    if "slow" in expression or "failure" in expression:
        return
    skip = pytest.mark.skip(reason="slow: run by make failure-tests (pytest -m failure)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
