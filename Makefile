# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: demo test bootstrap lint typecheck unit integration browser bench clean

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	.venv/bin/hotline demo

lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: bootstrap
	.venv/bin/mypy .

# Everything: static checks, unit tests, real Asterisk 22 / Redis / PostgreSQL, Chromium.
test: bootstrap lint typecheck
	.venv/bin/pytest -q

unit: bootstrap
	.venv/bin/pytest -q -m "not integration and not browser"

integration: bootstrap
	.venv/bin/pytest -q -m integration

browser: bootstrap
	.venv/bin/pytest -q -m browser

clean:
	-.venv/bin/hotline sandbox stop
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
