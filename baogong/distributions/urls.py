from __future__ import annotations

app_name = "distributions"

urlpatterns: list = []
