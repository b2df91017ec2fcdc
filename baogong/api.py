"""The HTTP API: one NinjaAPI, each app's Router mounted here (OpenAPI at /api/docs)."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="Baogong API", version="1", urls_namespace="api")
