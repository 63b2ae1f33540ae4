"""Packages only some configurations need are not loaded by starting the bot (docs/decisions.md)."""

import subprocess
import sys

from tests.e2e.harness import REPO_ROOT

# openai and httpx/httpx-sse: only for an `openai` or `http` agent; Pillow: only when an agent posts an
# image; alembic: only when the database is not at the newest revision.
OPTIONAL = ("openai", "httpx", "httpx_sse", "PIL", "alembic")


def test_the_bots_modules_load_none_of_the_optional_packages() -> None:
    code = (
        "import sys\n"
        "import bootstrap.cli, bootstrap.runtime\n"
        f"print(' '.join(name for name in {OPTIONAL!r} if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.split() == []
