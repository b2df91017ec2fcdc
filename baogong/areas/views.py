from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def browse(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


@login_required
def area_detail(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError


@login_required
def household_search(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError


@login_required
def my_household(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


@login_required
def register_import(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
