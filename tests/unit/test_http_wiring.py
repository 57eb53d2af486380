"""Wired or it does not exist: the app `hotline serve` runs (hotline/http.py create_app)
serves every feature's routes, including the ones that once existed only in tests that
mounted them by hand (the integration gateway's signed inbound updates)."""

from __future__ import annotations

import pytest

from hotline.http import create_app
from tests.harness.http_app import api_services

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"])

EXPECTED = {
    ("POST", "/api/auth/login"),
    ("GET", "/api/desk/config"),
    ("GET", "/api/knowledge/search"),
    ("GET", "/api/follow-ups"),
    ("POST", "/api/customer-imports"),
    ("GET", "/api/customer-imports/{job_id}/errors.csv"),
    ("POST", "/integrations/{system}/tickets/{number}"),
    ("GET", "/api/supervisor/live"),
    ("GET", "/api/reports"),
    ("GET", "/api/recordings/{recording_id}"),
    ("POST", "/api/calls/{linkedid}/recording/{action}"),
    ("POST", "/api/qa/scores"),  # quality inspection (qa/api.py)
}


async def test_given_the_served_app_then_every_feature_s_routes_are_mounted(db_url: str) -> None:
    async with api_services(db_url) as services:
        app = create_app(services)
    # The OpenAPI document lists what the app really routes (FastAPI keeps included
    # routers lazily, so app.routes does not show them).
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert EXPECTED - routes == set()
