"""Placeholder: being written."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def round_list(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def round_create(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError


def round_edit(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError


def round_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    raise NotImplementedError


def round_export(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError
