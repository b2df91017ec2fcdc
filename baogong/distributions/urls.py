from __future__ import annotations

from baogong.distributions import views, views_reports

app_name = "distributions"

# Planning pages (views) and the reports helper's pages (views_reports).
urlpatterns = [*views.urlpatterns, *views_reports.urlpatterns]
