from __future__ import annotations

from django.urls import path

from baogong.welfare import views

app_name = "welfare"
urlpatterns = [
    path("", views.home, name="home"),
    path("area/<int:pk>/", views.dashboard, name="dashboard"),
    path("area/<int:pk>/people/", views.people, name="people"),
    path("area/<int:pk>/calls/", views.area_calls, name="area_calls"),
    path("area/<int:pk>/needs/", views.needs, name="needs"),
    path("area/<int:pk>/access-log/", views.access_log, name="access_log"),
    path("area/<int:pk>/export.xlsx", views.export, name="export"),
    path("area/<int:pk>/import/", views.register_import, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("resident/<int:pk>/", views.care_edit, name="care_edit"),
    path("care/<int:pk>/", views.care_detail, name="care_detail"),
    path("care/<int:pk>/call/", views.call, name="call"),
    path("care/<int:pk>/remove/", views.care_remove, name="care_remove"),
    path("need/<int:pk>/act/", views.need_act, name="need_act"),
    path("need/<int:pk>/order/", views.need_order, name="need_order"),
    path("task/<int:pk>/done/", views.task_done, name="task_done"),
]
