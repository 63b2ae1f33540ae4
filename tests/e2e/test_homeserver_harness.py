"""The e2e harness itself works: the session homeserver (container or process), two ordinary users, and
restarts that keep data."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootstrap.homeserver import LocalSynapse, free_port
from tests.e2e.conftest import NewUser
from tests.e2e.harness import Event, MatrixUser
from tests.e2e.harness.homeserver import CHOICE_ENV, Homeserver, homeserver_kind


async def test_dm_invite_join_and_message_arrive(new_user: NewUser) -> None:
    alice, bob = await new_user(), await new_user()

    room_id = await alice.create_dm(bob.user_id)
    assert await bob.wait_for_invite() == room_id
    await bob.join(room_id)
    sent_id = await alice.send_text(room_id, "ping")

    def is_ping(event_room: str, event: Event) -> bool:
        return event_room == room_id and event.get("content", {}).get("body") == "ping"

    seen = await bob.wait_for(is_ping)
    assert seen["event_id"] == sent_id
    assert seen["sender"] == alice.user_id
    assert seen["room_id"] == room_id


async def test_wait_for_fails_loudly_when_nothing_arrives(new_user: NewUser) -> None:
    alice = await new_user()
    with pytest.raises(AssertionError, match="no matching event"):
        await alice.wait_for(lambda _room, _event: False, timeout=1)


async def test_restart_on_same_directory_keeps_users(tmp_path: Path) -> None:
    server = LocalSynapse(tmp_path / "synapse", port=free_port())
    server.start()
    try:
        user_id = server.register("restart-user", "secret")
        assert server.register("restart-user", "secret") == user_id  # idempotent
        server.stop()
        assert not server.is_running()

        server.port = free_port()
        server.start()
        user = await MatrixUser.login(server.url, user_id, "secret")
        assert user.user_id == user_id
        await user.close()
    finally:
        server.stop()


async def test_the_session_homeserver_restarts_with_its_data(synapse: Homeserver) -> None:
    user_id = synapse.register("session-restart-user", "secret")
    url = synapse.url
    synapse.stop()
    synapse.start()
    assert synapse.url == url, "bots keep the URL they were given: a restart must not move the homeserver"
    user = await MatrixUser.login(synapse.url, user_id, "secret")
    assert user.user_id == user_id
    await user.close()


@pytest.mark.parametrize("ci", ["true", None])
def test_the_container_homeserver_is_the_default_in_and_out_of_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    monkeypatch.delenv(CHOICE_ENV, raising=False)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    assert homeserver_kind()[0] == "container"  # never a silent fall-back to the process


@pytest.mark.parametrize("forced", ["container", "process"])
def test_the_forced_homeserver_wins_even_in_ci(monkeypatch: pytest.MonkeyPatch, forced: str) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv(CHOICE_ENV, forced)
    assert homeserver_kind()[0] == forced


def test_an_unknown_homeserver_choice_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CHOICE_ENV, "vm")
    with pytest.raises(ValueError, match="container' or 'process"):
        homeserver_kind()
