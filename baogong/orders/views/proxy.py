"""Placeholder: being written."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def proxy_order(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError
