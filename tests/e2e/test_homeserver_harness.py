"""The e2e harness itself works: the session homeserver (container or process), two ordinary users, and
restarts that keep data."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootstrap.homeserver import LocalSynapse, free_port
from tests.e2e.conftest import NewUser
from tests.e2e.harness import Event, MatrixUser
from tests.e2e.harness.homeserver import Homeserver


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
