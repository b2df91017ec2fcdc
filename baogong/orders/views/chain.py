"""Placeholder: being written."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def chain_paste(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError
