from __future__ import annotations

from django.urls import path

from baogong.fulfilment import views

app_name = "fulfilment"

urlpatterns = [
    path("rounds/<int:pk>/", views.round_consolidation, name="round_consolidation"),
    path("rounds/<int:pk>/confirm/", views.round_confirm, name="round_confirm"),
    path("rounds/<int:pk>/shortage-rule/", views.shortage_rule, name="shortage_rule"),
    path("rounds/<int:pk>/documents/", views.documents_prepare, name="documents_prepare"),
    path("rounds/<int:pk>/documents/status/", views.documents_status, name="documents_status"),
    path("documents/<int:pk>/download/", views.document_download, name="document_download"),
]
