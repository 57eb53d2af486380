# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: demo demo-cluster test bootstrap lint typecheck unit integration browser bench clean

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	.venv/bin/hotline-dev demo

# The same center as several processes: 2 pbx (a leader and a standby), 2 api; the
# leader is killed every 45 s to show the standby taking over.
demo-cluster: bootstrap
	.venv/bin/hotline-dev demo --cluster --kill-leader-every 45

lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: bootstrap
	.venv/bin/mypy .

# Everything: static checks, unit tests, real Asterisk 22 / Redis / PostgreSQL, Chromium.
# Two workers: most of a PBX test is waiting for audio and timers, so two share the two
# cores well; each worker starts its own Asterisk, PostgreSQL and Redis (session fixtures).
# Slowest tests listed at the end: the suite must stay well inside CI's time (see .ci/run).
test: bootstrap lint typecheck
	.venv/bin/pytest -q -n 2 --durations=20

unit: bootstrap
	.venv/bin/pytest -q -m "not integration and not browser"

integration: bootstrap
	.venv/bin/pytest -q -m integration

browser: bootstrap
	.venv/bin/pytest -q -m browser

clean:
	-.venv/bin/hotline-dev sandbox stop
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
