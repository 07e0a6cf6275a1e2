"""How long a step took, logged with its figure in `extra` (the benchmarks collect them)."""

import time
from contextlib import contextmanager


@contextmanager
def timed(log, what: str, **extra):
    """Log "<what>: <seconds> s" at INFO when the block ends, `extra` plus seconds attached."""
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    log.info("%s: %.3f s", what, seconds, extra={**extra, "seconds": seconds})
