from __future__ import annotations

from django.urls import path

from baogong.notify import views

app_name = "notify"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/read/", views.mark_read, name="mark_read"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("calls/", views.call_list, name="call_list"),
    path("calls/<int:pk>/done/", views.call_done, name="call_done"),
    path("failed/", views.failed_sms, name="failed_sms"),
    path("failed/<int:pk>/retry/", views.retry, name="retry"),
    path("failed/retry-all/", views.retry_all, name="retry_all"),
]
