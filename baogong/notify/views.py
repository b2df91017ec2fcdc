"""Inbox for everyone; call list and failed SMS for staff.

Each view: parse → scoped lookup (the user's own messages, or the staff scope from
notify.queries) → service → render or redirect. Writes are POST with CSRF.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from baogong.accounts.scoping import scope_for
from baogong.areas.models import Area
from baogong.core.http import domain_errors
from baogong.notify import queries, services

INBOX_PAGE_SIZE = 20
CALL_LIST_PAGE_SIZE = 200
FAILED_PAGE_SIZE = 50


@require_GET
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.inbox(request.user), INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/inbox.html",
        {"page": page, "unread": queries.unread_count(request.user)},
    )


@require_POST
@login_required
@domain_errors
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one message read; with `next` (the message's link) go there."""
    services.mark_read(user=request.user, message_id=pk)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notify:inbox")


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.mark_read(user=request.user)
    messages.success(
        request,
        ngettext("%(count)d message marked read.", "%(count)d messages marked read.", count)
        % {"count": count},
    )
    return redirect("notify:inbox")


@require_GET
@login_required
@domain_errors
def call_list(request: HttpRequest) -> HttpResponse:
    """Households to phone or visit, per community or compound, printable."""
    scope = scope_for(request.user)
    scope.require(queries.CALL_LIST_ROLES)
    areas = scope.areas(queries.CALL_LIST_ROLES).filter(
        kind__in=[Area.Kind.COMMUNITY, Area.Kind.COMPOUND]
    )
    area = None
    if request.GET.get("area"):
        area = scope.area(request.GET["area"], queries.CALL_LIST_ROLES)
    rows = queries.call_list(scope, area.path if area else "").prefetch_related(
        "household__residents"
    )
    page = Paginator(rows, CALL_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/call_list.html",
        {
            "page": page,
            "areas": areas.order_by("path")[:500],
            "area": area,
            "query": f"area={area.pk}" if area else "",
            "sees_failed_sms": scope.has_any(queries.FAILED_SMS_ROLES),
        },
    )


@require_POST
@login_required
@domain_errors
def call_done(request: HttpRequest, pk: int) -> HttpResponse:
    services.call_done(by=request.user, message_id=pk)
    messages.success(request, _("Marked as told."))
    area = request.POST.get("area", "")
    url = reverse("notify:call_list")
    return redirect(f"{url}?area={area}" if area.isdigit() else url)


@require_GET
@login_required
@domain_errors
def failed_sms(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    scope.require(queries.FAILED_SMS_ROLES)
    page = Paginator(queries.failed_sms(scope), FAILED_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notify/failed_sms.html", {"page": page})


@require_POST
@login_required
@domain_errors
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    scope_for(request.user).require(queries.FAILED_SMS_ROLES)
    services.retry_failed(by=request.user, message_id=pk)
    messages.success(request, _("The SMS will be sent again."))
    return redirect("notify:failed_sms")


@require_POST
@login_required
@domain_errors
def retry_all(request: HttpRequest) -> HttpResponse:
    scope_for(request.user).require(queries.FAILED_SMS_ROLES)
    count = services.retry_failed(by=request.user)
    messages.success(
        request,
        ngettext("%(count)d SMS will be sent again.", "%(count)d SMS will be sent again.", count)
        % {"count": count},
    )
    return redirect("notify:failed_sms")
