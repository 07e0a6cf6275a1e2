"""The live explanation (the case view, the portal's status page) remembers explain() per process,
keyed by the whole features row: the same row is explained once; any write that changes a
feature (a payment, a hold) is a new row, explained afresh, exactly as without the memo."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from doorstep.intake.importer import import_portfolio
from doorstep.ledger.domain import place_hold, post_payment
from doorstep.ledger.models import Account
from doorstep.ledger.queries import account_position, read_books
from doorstep.strategy import domain, queries
from doorstep.strategy.engine.document import load_strategy
from doorstep.strategy.engine.explain import explain
from tests.strategy.builder import Portfolio

AS_OF = date(2026, 11, 20)
AT = datetime(2026, 11, 20, 11, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def late(tmp_path, db):
    p = Portfolio(AS_OF)
    p.account("LATE80", overdue="3500.00", dpd=80)
    p.account("LATE40", overdue="3500.00", dpd=40)
    import_portfolio(p.write(tmp_path / "p"))
    queries._explained.clear()
    yield
    queries._explained.clear()


@pytest.fixture
def counted(monkeypatch):
    """The rows explain() was asked to explain, in order."""
    asked = []

    def counting(strategy, row, as_of):
        asked.append(row["account_id"])
        return explain(strategy, row, as_of)

    monkeypatch.setattr(queries, "explain", counting)
    return asked


def fresh(account_id: str, strategy):
    """The explanation without the memo: explain() of the account's features row now."""
    account = Account.objects.select_related("borrower__region").get(pk=account_id)
    return explain(strategy, queries.account_features_row(account, AS_OF, strategy), AS_OF)


def test_the_same_row_is_explained_once_and_another_account_apart(late, counted):
    strategy = domain.compiled(domain.active_version())

    first = queries.explain_account("LATE80", AS_OF, strategy, at=AT)
    again = queries.explain_account("LATE80", AS_OF, strategy, at=AT)
    other = queries.explain_account("LATE40", AS_OF, strategy, at=AT)

    assert counted == ["LATE80", "LATE40"]
    assert first == again == fresh("LATE80", strategy)
    assert first.next_change.on == date(2026, 11, 30)  # home visit at 90 days
    assert other.decision.stage == "phone"
    assert other.next_change.on == date(2027, 1, 9)


def test_a_payment_and_a_hold_are_explained_afresh(late, counted):
    strategy = domain.compiled(domain.active_version())
    before = queries.explain_account("LATE80", AS_OF, strategy, at=AT)

    post_payment("LATE80", amount_cents=100_000, paid_at=AT, by="t", at=AT)
    paid = queries.explain_account("LATE80", AS_OF, strategy, at=AT)
    paid_fresh = fresh("LATE80", strategy)
    place_hold("LATE80", kind="dispute", since=AS_OF, by="t")
    held = queries.explain_account("LATE80", AS_OF, strategy, at=AT)

    assert counted == ["LATE80", "LATE80", "LATE80"]
    assert "3500.00" in before.next_change.en
    # ¥2,500 left: under the ¥3,000 a home visit needs, so no next change any more.
    assert paid.next_change is None
    assert paid == paid_fresh != before
    assert held.decision.stage != paid.decision.stage
    assert held.decision.stage == "suspended"
    assert held == fresh("LATE80", strategy)


def test_another_day_or_strategy_is_another_key_and_the_memo_is_bounded(late, counted, monkeypatch):
    strategy = domain.compiled(domain.active_version())
    # The same document compiled again: another strategy object, never taken for the first.
    recompiled = load_strategy(domain.active_version().document)
    monkeypatch.setattr(queries, "EXPLAINED_MAX", 2)

    queries.explain_account("LATE80", AS_OF, strategy, at=AT)
    queries.explain_account("LATE80", date(2026, 11, 21), strategy, at=AT)
    queries.explain_account("LATE80", AS_OF, recompiled, at=AT)
    queries.explain_account("LATE80", AS_OF, strategy, at=AT)  # the oldest, dropped: again

    assert counted == ["LATE80"] * 4
    assert len(queries._explained) == 2


def test_the_books_read_once_give_the_same_features_and_figures_as_reading_them_apart(late):
    strategy = domain.compiled(domain.active_version())
    account = Account.objects.select_related("borrower__region").get(pk="LATE80")
    post_payment("LATE80", amount_cents=50_000, paid_at=AT, by="t", at=AT)  # an entry of today
    books = read_books(account, AS_OF)

    assert len(books.instalments) >= 1
    assert len(books.entries) >= 1
    assert queries.account_features_row(
        account, AS_OF, strategy, books=books
    ) == queries.account_features_row(account, AS_OF, strategy)
    assert account_position(account, AS_OF, books=books) == account_position(account, AS_OF)
    # Books of another day are not taken for this one's.
    earlier = read_books(account, date(2026, 9, 1))
    assert account_position(account, AS_OF, books=earlier) == account_position(account, AS_OF)
