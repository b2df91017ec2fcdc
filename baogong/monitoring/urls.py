from __future__ import annotations

from django.urls import path

from baogong.monitoring.views import alerts, dashboard, reports, setup

app_name = "monitoring"

urlpatterns = [
    path("", dashboard.home, name="home"),
    path("areas/<int:area_pk>/", dashboard.dashboard, name="dashboard"),
    path("areas/<int:area_pk>/export.xlsx", dashboard.dashboard_export, name="dashboard_export"),
    path("areas/<int:area_pk>/deadlines/", dashboard.deadlines_page, name="deadlines"),
    path("areas/<int:area_pk>/reserve/", dashboard.reserve, name="reserve"),
    path("areas/<int:area_pk>/schedules/new/", setup.schedule_create, name="schedule_create"),
    path("schedules/<int:pk>/edit/", setup.schedule_edit, name="schedule_edit"),
    path("commodities/", setup.commodity_list, name="commodity_list"),
    path("commodities/<int:pk>/edit/", setup.commodity_edit, name="commodity_edit"),
    path("alerts/", alerts.alert_list, name="alert_list"),
    path("alerts/<int:pk>/", alerts.alert_detail_page, name="alert_detail"),
    path("repeat-price-alerts/", alerts.repeat_price_alerts, name="repeat_price_alerts"),
    path("report/", reports.reporting, name="reporting"),
    path("outlets/<int:pk>/", reports.outlet_detail, name="outlet_detail"),
    path("outlets/<int:pk>/report/", reports.report_entry, name="report_entry"),
    path("suppliers/<int:pk>/upload/", reports.report_upload, name="report_upload"),
    path("suppliers/<int:pk>/template.xlsx", reports.report_template, name="report_template"),
]
