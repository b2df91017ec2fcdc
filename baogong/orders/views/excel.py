"""Placeholder: being written."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def excel_upload(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError


def excel_template(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError
