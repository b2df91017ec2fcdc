"""Each area of the last mile keeps its routes beside its views."""

from __future__ import annotations

from baogong.lastmile.views import doors, receipt, slots, volunteers

app_name = "lastmile"

urlpatterns = [
    *receipt.urlpatterns,
    *slots.urlpatterns,
    *doors.urlpatterns,
    *volunteers.urlpatterns,
]
