"""The /reports/ page (reports/static/) and the staffing forecast API
(reports/staffing_api.py). The page calls GET /api/reports, /api/reports/chart and
/api/reports/staffing: supervisors, QA and admins; the static files themselves are public
like every page (their API refuses other roles)."""

from __future__ import annotations

from pathlib import Path

from agent_api.app import HttpFeature
from hotline.services import Services
from reports import staffing_api

STATIC = Path(__file__).parent / "static"


def reports_page_feature(services: Services) -> HttpFeature:
    del services
    return HttpFeature(routers=[staffing_api.router], static={"/reports": STATIC})
