"""Alert pages: the list, one alert with its acknowledge/close form, repeated price alerts."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from baogong.accounts.models import Role
from baogong.accounts.scoping import scope_for
from baogong.core.errors import Conflict, InvalidInput
from baogong.core.http import domain_errors
from baogong.monitoring import queries, services
from baogong.monitoring.forms import AlertActionForm
from baogong.monitoring.models import Alert
from baogong.monitoring.notifications import alert_detail

PAGE = 50
REPEAT_WINDOW = dt.timedelta(days=30)


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    """Alerts of the outlets the user reaches: open ones first; filter by state and kind."""
    alerts = queries.alerts_for(request.user)
    state = request.GET.get("state", Alert.State.OPEN)
    if state in Alert.State.values:
        alerts = alerts.filter(state=state)
    kind = request.GET.get("kind", "")
    if kind in Alert.Kind.values:
        alerts = alerts.filter(kind=kind)
    page = Paginator(alerts.order_by("-date", "-pk"), PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "monitoring/alert_list.html",
        {
            "page": page,
            "rows": [(alert, alert_detail(alert)) for alert in page],
            "state": state,
            "kind": kind,
            "states": Alert.State.choices,
            "kinds": Alert.Kind.choices,
            "query": f"state={state}&kind={kind}",
        },
    )


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def alert_detail_page(request: HttpRequest, pk: int) -> HttpResponse:
    alert = queries.alert_for(request.user, pk)
    form = AlertActionForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("acknowledge", "close"):
            return redirect("monitoring:alert_detail", pk=alert.pk)
        if form.is_valid():
            service = (
                services.alert_acknowledge if action == "acknowledge" else services.alert_close
            )
            try:
                service(alert, note=form.cleaned_data["note"], by=request.user)
            except (InvalidInput, Conflict) as error:
                form.add_error("note", error.message)
            else:
                messages.success(request, _("The alert was updated."))
                return redirect("monitoring:alert_detail", pk=alert.pk)
    return render(
        request,
        "monitoring/alert_detail.html",
        {
            "alert": alert,
            "detail": alert_detail(alert),
            "form": form,
            "can_handle": queries.can_handle(request.user, alert),
            "history": alert.history.select_related("history_user").order_by("-history_date")[:20],
        },
    )


@login_required
def repeat_price_alerts(request: HttpRequest) -> HttpResponse:
    """Outlets with repeated price alerts in the last 30 days (for market supervision)."""
    if not scope_for(request.user).has_any(
        frozenset({Role.MARKET_SUPERVISION, Role.BUREAU_STAFF, Role.DISTRICT_ADMIN})
    ):
        raise PermissionDenied
    since = timezone.localdate() - REPEAT_WINDOW
    return render(
        request,
        "monitoring/repeat_price_alerts.html",
        {
            "outlets": queries.repeat_price_offenders(request.user, since=since),
            "since": since,
        },
    )
