from __future__ import annotations

from django.urls import path

from baogong.areas import views

app_name = "areas"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("<int:pk>/", views.area_detail, name="detail"),
    path("households/", views.household_search, name="household_search"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("my-household/", views.my_household, name="my_household"),
    path("import/", views.register_import, name="import"),
]
