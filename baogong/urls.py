from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from baogong.accounts.views import home
from baogong.api import api

urlpatterns = [
    path("", home, name="home"),
    path("", include("baogong.accounts.urls")),
    path("", include("baogong.orders.urls")),
    path("areas/", include("baogong.areas.urls")),
    path("supply/", include("baogong.supply.urls")),
    path("payments/", include("baogong.payments.urls")),
    path("fulfilment/", include("baogong.fulfilment.urls")),
    path("welfare/", include("baogong.welfare.urls")),
    path("requisitions/", include("baogong.requisitions.urls")),
    path("monitoring/", include("baogong.monitoring.urls")),
    path("lastmile/", include("baogong.lastmile.urls")),
    path("distributions/", include("baogong.distributions.urls")),
    path("notify/", include("baogong.notify.urls")),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
