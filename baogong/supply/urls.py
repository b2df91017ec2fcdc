from __future__ import annotations

from django.urls import path

from baogong.supply import views

app_name = "supply"
urlpatterns = [
    path("", views.supplier_list, name="supplier_list"),
    path("new/", views.supplier_create, name="supplier_create"),
    path("<int:pk>/", views.supplier_detail, name="supplier_detail"),
    path("<int:pk>/edit/", views.supplier_edit, name="supplier_edit"),
    path("<int:pk>/outlets/new/", views.outlet_create, name="outlet_create"),
    path("outlets/<int:pk>/edit/", views.outlet_edit, name="outlet_edit"),
    path("<int:pk>/catalog/", views.catalog, name="catalog"),
    path("<int:pk>/catalog/new/", views.package_create, name="package_create"),
    path("packages/<int:pk>/edit/", views.package_edit, name="package_edit"),
    path("packages/<int:pk>/active/", views.package_active, name="package_active"),
    path("packages/<int:pk>/photo/", views.package_photo, name="package_photo"),
    path("assignments/", views.assignment_list, name="assignments"),
    path("assignments/<int:pk>/remove/", views.assignment_remove, name="assignment_remove"),
    path("assignments/import/", views.assignment_import, name="assignment_import"),
    path("assignments/import/template.xlsx", views.assignment_template, name="assignment_template"),
]
