from django import template

from doorstep import money

register = template.Library()


@register.filter
def yuan(cents) -> str:
    """Integer cents as ¥1,234.50 (Decimal all the way, never float)."""
    if cents is None:
        return ""
    return money.yuan_display(cents)
