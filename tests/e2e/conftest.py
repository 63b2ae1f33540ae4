"""Fixtures shared by every e2e test: one Synapse per session, fresh users and a fresh bot per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bootstrap.homeserver import LocalSynapse, free_port
from tests.e2e.harness import BotProcess, MatrixUser

NewUser = Callable[[], Awaitable[MatrixUser]]
USER_PASSWORD = "e2e-password"
BOT_PASSWORD = "e2e-bot-password"


@dataclass
class BotUnderTest:
    """The bot account and its process; tests may stop, kill and start `process` themselves."""

    user_id: str
    password: str
    env: dict[str, str]
    process: BotProcess
    data_dir: Path
    workspace_dir: Path


def bot_env(synapse: LocalSynapse, user_id: str, root: Path) -> dict[str, str]:
    """Every path under `root`: nothing may fall back to the repo's ./var or config/ defaults."""
    return {
        "SURFACES_HOMESERVER_URL": synapse.url,
        "SURFACES_USER_ID": user_id,
        "SURFACES_PASSWORD": BOT_PASSWORD,
        "SURFACES_DATA_DIR": str(root / "data"),
        "SURFACES_WORKSPACE_DIR": str(root / "workspace"),
        "SURFACES_AGENTS_FILE": str(root / "agents.yaml"),  # absent: the built-in echo agent
        "SURFACES_HTTP_PORT": str(free_port()),
    }


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSynapse]:
    server = LocalSynapse(tmp_path_factory.mktemp("synapse"), port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def new_user(synapse: LocalSynapse) -> AsyncIterator[NewUser]:
    """Call it to get a freshly registered, logged-in user (password `USER_PASSWORD`)."""
    users: list[MatrixUser] = []

    async def make() -> MatrixUser:
        user_id = synapse.register(f"user-{uuid.uuid4().hex[:8]}", USER_PASSWORD)
        user = await MatrixUser.login(synapse.url, user_id, USER_PASSWORD)
        users.append(user)
        return user

    yield make
    for user in users:
        await user.close()


@pytest.fixture
def bot(synapse: LocalSynapse, tmp_path: Path) -> Iterator[BotUnderTest]:
    """A fresh bot account running as `surfaces run`, ready; stopped with SIGTERM afterwards."""
    user_id = synapse.register(f"bot-{uuid.uuid4().hex[:8]}", BOT_PASSWORD)
    root = tmp_path / "bot"
    env = bot_env(synapse, user_id, root)
    process = BotProcess(env, root / "bot.log")
    under_test = BotUnderTest(user_id, BOT_PASSWORD, env, process, root / "data", root / "workspace")
    print(f"bot log: {process.log_path}")  # shown with a failing test's captured setup output
    process.start()
    try:
        process.wait_ready()
        yield under_test
    finally:
        if process.is_running():
            process.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test that used the bot shows the end of the bot's log in its report."""
    report = yield
    under_test = getattr(item, "funcargs", {}).get("bot")
    if report.failed and isinstance(under_test, BotUnderTest):
        report.sections.append(("bot log (tail)", under_test.process.log_tail(80)))
    return report
