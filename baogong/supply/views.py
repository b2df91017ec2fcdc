"""Placeholder: being written."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def supplier_list(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
