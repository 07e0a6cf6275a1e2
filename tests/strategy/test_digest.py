"""The digest the nightly audit entry carries: written by DuckDB for speed, it must be the very
digest the canonical definition (each row as audit.chain.row_text, one per line, in Python) gives,
whatever the texts hold: quotes, backslashes, control characters, Chinese, emoji, line
separators, and NULL apart from the empty string."""

import pytest

from doorstep.strategy import domain, queries
from doorstep.strategy.models import Decision
from tests.strategy.test_nightly import AS_OF, small_portfolio

AWKWARD = [
    'say "pay" \\ now',
    "line one\nline two\r\n\ttabbed \x01\x1f\x7f",
    "逾期 ¥3,000.00 — 上门核实 😀 \u2028\u2029 </script>",
    "",
]


@pytest.mark.django_db(transaction=True)
def test_the_fast_digest_is_the_canonical_digest(tmp_path):
    small_portfolio(tmp_path)
    domain.run_nightly(AS_OF, by="test")
    decisions = list(Decision.objects.filter(as_of=AS_OF).order_by("account_id"))
    assert len(decisions) == len(AWKWARD)
    for decision, text in zip(decisions, AWKWARD, strict=True):
        decision.reasons_en = text
        decision.reasons_zh = text[::-1]
    decisions[0].triggers, decisions[1].triggers = None, ""
    decisions[2].blocked_by, decisions[3].blocked_by = "", None
    Decision.objects.bulk_update(decisions, ["reasons_en", "reasons_zh", "triggers", "blocked_by"])

    fast = queries.decisions_digest(AS_OF)
    assert fast == queries.digest_ordered_rows(AS_OF)
    assert fast[0] == 4

    # And it reads the rows: one changed character changes it.
    Decision.objects.filter(pk=decisions[3].pk).update(reasons_en="x")
    assert queries.decisions_digest(AS_OF)[1] != fast[1]


@pytest.mark.django_db(transaction=True)
def test_a_date_without_decisions_has_the_digest_of_nothing():
    assert queries.decisions_digest(AS_OF) == queries.digest_ordered_rows(AS_OF)
    assert queries.decisions_digest(AS_OF)[0] == 0
