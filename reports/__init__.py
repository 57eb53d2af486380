"""Reports: call, agent, survey and ticket metrics per interval (15 min, hour, day, month)
and dimension (queue, skill, agent, ticket category), computed in the database.

metrics.py holds the definitions (shared with the live supervisor view), intervals.py the
center-time-zone buckets, sql.py the GROUP BY statements, service.py runs them, export.py
and charts/ turn results into CSV, chart data, SVG and PNG; api.py is the HTTP router.
"""
