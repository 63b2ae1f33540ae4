"""Issue 17, acceptance 1: appservice mode with the registration `surfaces registration` prints, on a real Synapse.

A person's first DM, their Space and chat, an answer; and the bot never asks for `/sync` (a proxy in front of
Synapse notes every request the bot makes). The bot account exists before the switch, as in a sync-mode
deployment that moves to appservice mode. Needs a Synapse process (it loads the registration) and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio
import yaml

from bootstrap.homeserver import LocalSynapse, free_port
from tests.e2e.conftest import AGENTS_FILE, BOT_PASSWORD, USER_PASSWORD, BotUnderTest
from tests.e2e.harness import REPO_ROOT, BotProcess, MatrixUser
from tests.e2e.harness.request_log_proxy import RequestLogProxy
from tests.e2e.helpers import ask, onboard
from tests.servers.postgres import PostgresServer, postgres_cluster

BOT_LOCALPART = "surfacesbot"


@pytest.fixture
def bot_database() -> Iterator[PostgresServer]:
    yield from postgres_cluster()


def registration(url: str, user_id: str) -> tuple[dict[str, object], dict[str, str]]:
    """`surfaces registration` as an operator runs it: the YAML from stdout, the settings from stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURFACES_")}
    done = subprocess.run(
        ["uv", "run", "--no-sync", "surfaces", "registration", "--url", url, "--user-id", user_id],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    settings = dict(
        line.split("=", 1) for line in done.stderr.splitlines() if line.startswith("SURFACES_") and "=" in line
    )
    return yaml.safe_load(done.stdout), settings


@pytest_asyncio.fixture
async def appservice_bot(
    tmp_path: Path, bot_database: PostgresServer
) -> AsyncIterator[tuple[BotUnderTest, LocalSynapse, RequestLogProxy]]:
    synapse = LocalSynapse(tmp_path / "synapse", port=free_port())
    synapse.start()
    bot_id = synapse.register(BOT_LOCALPART, BOT_PASSWORD)  # an existing account becomes the sender
    synapse.stop()
    as_port = free_port()
    registered, settings = registration(f"http://127.0.0.1:{as_port}", bot_id)
    assert registered["sender_localpart"] == BOT_LOCALPART and registered["rate_limited"] is False
    registration_file = tmp_path / "surfaces-registration.yaml"
    registration_file.write_text(yaml.safe_dump(registered))
    synapse.app_service_config_files = (registration_file,)
    synapse.start()
    proxy = RequestLogProxy(synapse.url)
    await proxy.start()
    root = tmp_path / "bot"
    env = {
        **settings,
        "SURFACES_DATABASE_URL": await bot_database.empty_database(),
        "SURFACES_HOMESERVER_URL": proxy.url,
        "SURFACES_USER_ID": bot_id,
        "SURFACES_DATA_DIR": str(root / "data"),
        "SURFACES_WORKSPACE_DIR": str(root / "workspace"),
        "SURFACES_AGENTS_FILE": str(AGENTS_FILE),
        "SURFACES_HTTP_PORT": str(free_port()),
    }
    assert env["SURFACES_MODE"] == "appservice" and env["SURFACES_APPSERVICE_PORT"] == str(as_port)
    process = BotProcess(env, root / "bot.log")
    print(f"bot log: {process.log_path}")
    started = time.monotonic()
    process.start()
    try:
        await asyncio.to_thread(process.wait_ready)  # the proxy runs on this loop: it must keep serving
        print(f"appservice bot ready in {time.monotonic() - started:.1f} s")
        yield BotUnderTest(bot_id, BOT_PASSWORD, env, process, root / "data", root / "workspace"), synapse, proxy
    finally:
        if process.is_running():
            await asyncio.to_thread(process.stop)
        await proxy.stop()
        synapse.stop()


async def test_first_dm_space_chat_and_answer_without_any_sync(
    appservice_bot: tuple[BotUnderTest, LocalSynapse, RequestLogProxy],
) -> None:
    bot, synapse, proxy = appservice_bot
    user_id = synapse.register(f"user-{uuid.uuid4().hex[:8]}", USER_PASSWORD)
    user = await MatrixUser.login(synapse.url, user_id, USER_PASSWORD)
    try:
        _, _, chat = await onboard(user, bot)
        reply = await ask(user, bot, chat, "hello over transactions")
        assert reply["content"]["body"] == "hello over transactions"
    finally:
        await user.close()

    requests = list(proxy.requests)
    assert requests, "the bot made no request through the proxy"
    assert not [r for r in requests if "/sync" in r.split("?", 1)[0]], f"the bot synced: {requests}"
    sends = [r for r in requests if r.startswith("PUT ") and "/send/m.room.message/" in r]
    identities = {(*q.get("user_id", []), *q.get("device_id", [])) for q in (_query(r) for r in sends)}
    assert sends and identities == {(bot.user_id, "SURFACESAS")}, sends


def _query(request: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.split(" ", 1)[1]).query)
