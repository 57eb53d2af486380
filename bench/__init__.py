"""Benchmarks (run as scripts: .venv/bin/python bench/<name>.py); a package so that
bench/reports.py is `bench.reports` to type checkers, not a second `reports`."""
