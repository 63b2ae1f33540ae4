"""Fixtures shared by every e2e test: one Synapse per session, fresh users and a fresh bot per test.

The Synapse runs in a container (testcontainers, the fullstack stack's image); SURFACES_E2E_HOMESERVER=process
runs the local Synapse process instead. A Docker failure fails the run; it never falls back silently.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bootstrap.homeserver import LocalSynapse, free_port
from tests.e2e.harness import REPO_ROOT, BotProcess, MatrixUser
from tests.e2e.harness.homeserver import Homeserver, homeserver_kind
from tests.e2e.harness.images import build_fullstack_images, docker_problem
from tests.e2e.harness.js_user import JsUser

NewUser = Callable[[], Awaitable[MatrixUser]]
NewJsUser = Callable[[], Awaitable[JsUser]]
# The repo's registry: echo (default), echo-2 and echo-nosave (no !save / !load).
AGENTS_FILE = REPO_ROOT / "config" / "agents.yaml"
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

    @property
    def db_path(self) -> Path:
        """The bot's SQLite index (the default database under SURFACES_DATA_DIR)."""
        return self.data_dir / "surfaces.db"


def bot_env(synapse: Homeserver, user_id: str, root: Path) -> dict[str, str]:
    """Every path under `root`: nothing may fall back to the repo's ./var or config/ defaults."""
    return {
        "SURFACES_HOMESERVER_URL": synapse.url,
        "SURFACES_USER_ID": user_id,
        "SURFACES_PASSWORD": BOT_PASSWORD,
        "SURFACES_DATA_DIR": str(root / "data"),
        "SURFACES_WORKSPACE_DIR": str(root / "workspace"),
        "SURFACES_AGENTS_FILE": str(AGENTS_FILE),
        "SURFACES_HTTP_PORT": str(free_port()),
    }


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homeserver]:
    """One homeserver for the session: a container or a local process (see the module docstring)."""
    kind, reason = homeserver_kind()
    print(f"e2e homeserver: {kind} ({reason})")
    if kind == "process":
        server = LocalSynapse(tmp_path_factory.mktemp("synapse"), port=free_port())
        server.start()
        yield server
        server.stop()
        return
    yield from _container_synapse()


def _container_synapse(encrypt_new_rooms: bool = False) -> Iterator[Homeserver]:
    problem = docker_problem()
    if problem is not None:
        pytest.fail(f"the container homeserver is required here, but {problem}", pytrace=False)
    seconds = build_fullstack_images("synapse")
    print(f"synapse image built (or found up to date) in {seconds:.1f} s")
    from tests.e2e.harness.synapse_container import ContainerSynapse  # imports testcontainers

    server = ContainerSynapse(encrypt_new_rooms=encrypt_new_rooms)
    started = time.monotonic()
    try:
        server.start()
        print(f"synapse container healthy in {time.monotonic() - started:.1f} s at {server.url}")
        yield server
    finally:
        server.remove()


@pytest.fixture
async def new_user(synapse: Homeserver) -> AsyncIterator[NewUser]:
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


class BotStarter:
    """`start_bot(**extra_env)`: a fresh bot account running as `surfaces run`, ready.

    `extra_env` adds or overrides SURFACES_* settings, e.g. SURFACES_LOCALE="ru".
    Every bot started is stopped with SIGTERM when the test ends.
    """

    def __init__(self, synapse: Homeserver, tmp_path: Path) -> None:
        self._synapse = synapse
        self._tmp_path = tmp_path
        self.started: list[BotUnderTest] = []

    def __call__(self, **extra_env: str) -> BotUnderTest:
        user_id = self._synapse.register(f"bot-{uuid.uuid4().hex[:8]}", BOT_PASSWORD)
        root = self._tmp_path / ("bot" if not self.started else f"bot-{len(self.started) + 1}")
        env = {**bot_env(self._synapse, user_id, root), **extra_env}
        process = BotProcess(env, root / "bot.log")
        under_test = BotUnderTest(user_id, BOT_PASSWORD, env, process, root / "data", root / "workspace")
        print(f"bot log: {process.log_path}")  # shown with a failing test's captured setup output
        self.started.append(under_test)
        process.start()
        process.wait_ready()
        return under_test

    def stop_all(self) -> None:
        for under_test in self.started:
            if under_test.process.is_running():
                under_test.process.stop()


@pytest.fixture
def start_bot(synapse: Homeserver, tmp_path: Path) -> Iterator[BotStarter]:
    starter = BotStarter(synapse, tmp_path)
    try:
        yield starter
    finally:
        starter.stop_all()


@pytest.fixture
def bot(start_bot: BotStarter) -> BotUnderTest:
    """A fresh bot with the default settings and the repo's agent registry."""
    return start_bot()


@pytest.fixture(scope="session")
def encrypting_synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homeserver]:
    """A second session homeserver, of the same kind as `synapse`, that encrypts every new room
    (`encryption_enabled_by_default_for_room_type: all`): the bot's Space and chats come out encrypted."""
    kind, reason = homeserver_kind()
    print(f"e2e encrypting homeserver: {kind} ({reason})")
    if kind == "process":
        server = LocalSynapse(tmp_path_factory.mktemp("synapse-encrypting"), port=free_port(), encrypt_new_rooms=True)
        server.start()
        yield server
        server.stop()
        return
    yield from _container_synapse(encrypt_new_rooms=True)


@pytest.fixture
def start_encrypted_bot(encrypting_synapse: Homeserver, tmp_path: Path) -> Iterator[BotStarter]:
    """`start_bot` on the encrypting homeserver (pass SURFACES_HOMESERVER_URL to route it through a proxy)."""
    starter = BotStarter(encrypting_synapse, tmp_path / "encrypting")
    try:
        yield starter
    finally:
        starter.stop_all()


@pytest.fixture
async def new_js_user(encrypting_synapse: Homeserver) -> AsyncIterator[NewJsUser]:
    """Call it for a freshly registered user logged in through matrix-js-sdk with its Rust crypto."""
    users: list[JsUser] = []

    async def make() -> JsUser:
        user_id = encrypting_synapse.register(f"js-{uuid.uuid4().hex[:8]}", USER_PASSWORD)
        user = await JsUser.login(encrypting_synapse.url, user_id, USER_PASSWORD)
        users.append(user)
        return user

    yield make
    for user in users:
        await user.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test that used the bot shows the end of the bot's log in its report."""
    report = yield
    for fixture in ("start_bot", "start_encrypted_bot"):
        starter = getattr(item, "funcargs", {}).get(fixture)
        if report.failed and isinstance(starter, BotStarter):
            for under_test in starter.started:
                report.sections.append((f"bot log (tail) {under_test.user_id}", under_test.process.log_tail(80)))
    return report
