# The two commands of the README: `make run` (the embedded default) and `make test` (everything CI runs).
# Both install uv from PyPI when it is missing, then let uv install the locked dependencies, compiled to
# bytecode as the container images are: with PYTHONDONTWRITEBYTECODE set, as on this machine, every start
# would compile its imports again (2.5 s of a 4 s start of the bot, and of every process the tests start).

UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: run test lint unit e2e uv prepare

uv:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv \
		|| python3 -m pip install --quiet --break-system-packages uv
	@$(UV) sync --locked --quiet --compile-bytecode

run: uv
	$(UV) run surfaces dev

lint: uv
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports

unit: uv
	$(UV) run pytest tests/unit

e2e: uv
	$(UV) run pytest tests/e2e

# The system side of the suite (PostgreSQL's binaries, Docker with Compose v2 and a local base image):
# installed when missing (as root), seconds when already there. Without them the suite fails, never skips.
prepare:
	scripts/prepare-machine.sh
	scripts/prepare-docker.sh

test: prepare lint
	$(UV) run pytest

# The benchmark of the README's Performance section (about 15 minutes); `make bench ARGS=--quick` for a smoke run.
.PHONY: bench
bench: uv
	$(UV) run python -m bench $(ARGS)
