from __future__ import annotations

from django.urls import path

from baogong.supply import views

app_name = "supply"
urlpatterns = [
    path("", views.supplier_list, name="supplier_list"),
]
