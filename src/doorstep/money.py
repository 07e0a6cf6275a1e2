"""Money is integer cents (分) everywhere; these are the only conversions to and from yuan text."""

from decimal import ROUND_HALF_UP, Decimal


def yuan(cents: int) -> str:
    """1234 → '12.34'; exact, never through float."""
    return f"{Decimal(int(cents)).scaleb(-2):.2f}"


def yuan_display(cents: int) -> str:
    """123456 → '¥1,234.56', -1200 → '-¥12.00': the amount as screens and letters show it."""
    whole, _, fraction = yuan(cents).partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}¥{int(whole.lstrip('-')):,}.{fraction}"


def cents(amount: Decimal | str) -> int:
    """Decimal('12.345') is refused: amounts carry at most 2 decimals."""
    value = Decimal(amount)
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{amount} has more than 2 decimals")
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))
