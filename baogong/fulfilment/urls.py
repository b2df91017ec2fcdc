from __future__ import annotations

from django.urls import path

from baogong.fulfilment import views, views_transport, views_trips

app_name = "fulfilment"

urlpatterns = [
    path("rounds/<int:pk>/", views.round_consolidation, name="round_consolidation"),
    path("rounds/<int:pk>/confirm/", views.round_confirm, name="round_confirm"),
    path("rounds/<int:pk>/shortage-rule/", views.shortage_rule, name="shortage_rule"),
    path("rounds/<int:pk>/documents/", views.documents_prepare, name="documents_prepare"),
    path("rounds/<int:pk>/documents/status/", views.documents_status, name="documents_status"),
    path("documents/<int:pk>/download/", views.document_download, name="document_download"),
    # Transport (issue 6): trips and stops, vehicles and crew, passes, entry requests.
    path("transport/", views_trips.trip_list, name="trip_list"),
    path("transport/trips/new/", views_trips.trip_create, name="trip_create"),
    path("transport/trips/<int:pk>/", views_trips.trip_detail, name="trip_detail"),
    path("transport/trips/<int:pk>/stops/", views_trips.stop_add, name="stop_add"),
    path(
        "transport/trips/<int:pk>/crew/<int:member_pk>/",
        views_trips.trip_attestation,
        name="trip_attestation",
    ),
    path("transport/trips/<int:pk>/<str:action>/", views_trips.trip_action, name="trip_action"),
    path("transport/stops/<int:pk>/", views_trips.stop_detail, name="stop_detail"),
    path(
        "transport/stops/<int:pk>/disinfection/",
        views_trips.stop_disinfection,
        name="stop_disinfection",
    ),
    path("transport/stops/<int:pk>/<str:action>/", views_trips.stop_action, name="stop_action"),
    path("transport/vehicles/", views_transport.vehicle_list, name="vehicle_list"),
    path("transport/vehicles/new/", views_transport.vehicle_create, name="vehicle_create"),
    path("transport/vehicles/<int:pk>/", views_transport.vehicle_edit, name="vehicle_edit"),
    path("transport/crew/new/", views_transport.crew_create, name="crew_create"),
    path("transport/crew/<int:pk>/", views_transport.crew_edit, name="crew_edit"),
    path("transport/passes/", views_transport.pass_list, name="pass_list"),
    path("transport/passes/new/", views_transport.pass_issue, name="pass_issue"),
    path("transport/passes/<int:pk>/", views_transport.pass_detail, name="pass_detail"),
    path("transport/passes/<int:pk>/revoke/", views_transport.pass_revoke, name="pass_revoke"),
    path("transport/passes/<int:pk>/pdf/", views_transport.pass_pdf, name="pass_pdf"),
    # Public: what a checkpoint sees when it scans a pass (no login, no personal data).
    path("pass/<str:token>/", views_transport.pass_verify, name="pass_verify"),
    path("transport/entries/", views_transport.entry_list, name="entry_list"),
    path("transport/entries/new/", views_transport.entry_create, name="entry_create"),
    path("transport/entries/<int:pk>/", views_transport.entry_detail, name="entry_detail"),
]
