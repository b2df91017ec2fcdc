from __future__ import annotations

from django.urls import path

from baogong.areas import register_views, views

app_name = "areas"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("<int:pk>/", views.area_detail, name="detail"),
    path("<int:pk>/places/add/", views.gate_add, name="gate_add"),
    path("places/<int:pk>/", views.gate_edit, name="gate_edit"),
    path("households/", views.household_search, name="household_search"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/residents/add/", views.resident_add, name="resident_add"),
    path("residents/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/remove/", views.resident_delete, name="resident_delete"),
    path("my-household/", views.my_household, name="my_household"),
    path("import/", register_views.register_import, name="import"),
    path("import/template.xlsx", register_views.register_template, name="import_template"),
    path("import/<str:key>/", register_views.register_import_status, name="import_status"),
    path("<int:pk>/export.xlsx", register_views.register_export, name="export"),
]
