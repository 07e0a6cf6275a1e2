from tests.visits.conftest import field  # noqa: F401  (the visits fixture, for the notice page)
