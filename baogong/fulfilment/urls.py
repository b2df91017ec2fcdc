from __future__ import annotations

app_name = "fulfilment"

urlpatterns: list = []
