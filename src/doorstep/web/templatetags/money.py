from django import template

from doorstep import money

register = template.Library()


@register.filter
def yuan(cents) -> str:
    """Integer cents as ¥1,234.50 (Decimal all the way, never float)."""
    if cents is None:
        return ""
    return money.yuan_display(cents)


@register.filter
def sum_values(values) -> int:
    """The sum of an iterable of cents (a dict's values, say)."""
    return sum(values)
