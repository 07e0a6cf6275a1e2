from django import template

from doorstep import money

register = template.Library()


@register.filter
def yuan(cents) -> str:
    """Integer cents as ¥1,234.50 (Decimal all the way, never float)."""
    if cents is None:
        return ""
    whole, _, fraction = money.yuan(cents).partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}¥{int(whole.lstrip('-')):,}.{fraction}"
