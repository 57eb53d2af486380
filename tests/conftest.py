"""Shared pytest wiring. Real servers are started by the harness plugins below,
once per test session, on free loopback ports; they are cached between runs where
building them is slow (the Asterisk root, the PostgreSQL cluster)."""

pytest_plugins = [
    "tests.harness.redis",
    "tests.harness.database",
    "tests.harness.asterisk",
    "tests.harness.cti",
    "tests.harness.hang_report",
    "pytester",  # tests/unit/harness/test_hang_report.py runs pytest on purpose-built hangs
]
