"""The kill test names the phase a killed run was in from the run's log: its list of phases must
be the one strategy.domain logs, or a kill landing after an unlisted phase fails the test by chance
(CI lost a stop to "'digest' is not in list"). Read from the source, so adding a phase fails here
at once rather than at a random kill point."""

import inspect
import re

from doorstep.strategy import domain
from tests.failure.test_nightly_kill import PHASES

SPARK_ONLY = {"spark session", "results"}


def test_every_phase_the_nightly_run_logs_is_known_to_the_kill_test():
    logged = set(re.findall(r'_phase\("([^"]+)"\)', inspect.getsource(domain)))
    assert logged, "no _phase(...) found in strategy.domain: the pattern above is stale"
    assert logged - SPARK_ONLY <= set(PHASES), logged - SPARK_ONLY - set(PHASES)
