from hypothesis import given
from hypothesis import strategies as st

from doorstep.money import cents, yuan_display


def test_yuan_display_groups_thousands_and_keeps_the_sign_before_the_currency():
    assert yuan_display(0) == "¥0.00"
    assert yuan_display(123456) == "¥1,234.56"
    assert yuan_display(-5) == "-¥0.05"
    assert yuan_display(100000000001) == "¥1,000,000,000.01"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_yuan_display_reads_back_to_the_same_cents(amount):
    assert cents(yuan_display(amount).replace("¥", "").replace(",", "")) == amount
