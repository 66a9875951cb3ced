# The two commands of the README. Each installs uv when missing and syncs the locked
# dependencies into .venv before it runs.
UV := python3 -m uv
UV_VERSION := 0.13.9

.PHONY: demo test lint uv sync bench browser

uv:
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"

# Every extra and the dev group: the tests run each backend (Spark, PostgreSQL, Redis, the Hub).
# Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on CI), every
# process would otherwise compile its imports from source (~6 s for the serving stack's).
sync: uv
	$(UV) sync --frozen --quiet --compile-bytecode --all-extras
	$(UV) run --frozen python -m compileall -q src

demo: sync
	$(UV) run --frozen lucid demo

lint: sync
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen ruff format --check src tests bench
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports

# The dashboard is tested in a real headless Chromium, Debian's package (no browser download).
browser:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && \
		(apt-get install -y -qq chromium >/dev/null 2>&1 || \
		 (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)); } || \
		echo "chromium could not be installed: the dashboard browser test will be skipped"

# One pytest worker per core, up to four; a module's tests stay on one worker, so a module's
# fixture (the churn scenario's world) is built once. Each worker has its own temporary
# folders, PostgreSQL schemas and Redis key prefixes.
test: lint browser
	$(UV) run --frozen pytest --numprocesses auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder

bench: sync
	$(UV) run --frozen python bench/event_log.py
