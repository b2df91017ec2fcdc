from __future__ import annotations

app_name = "requisitions"

urlpatterns: list = []
