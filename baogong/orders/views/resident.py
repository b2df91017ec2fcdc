"""Placeholder: being written."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def shop(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def round_order(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError


def my_orders(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError
