"""{{ phone|phone_for:full_phone }}: the number itself for those who call people, else masked."""

from __future__ import annotations

from django import template

from baogong.core.phones import mask_phone

register = template.Library()


@register.filter
def phone_for(phone: str, full: bool) -> str:
    return phone if full else mask_phone(phone)
