"""Pushed events go through the sync mode's event mapping; identity and registration helpers of appservice mode."""

import re

import pytest
from pydantic import ValidationError

from adapters.matrix.appservice.client import with_identity
from adapters.matrix.appservice.registration import Registration
from adapters.matrix.appservice.transaction_mapping import map_transaction
from bootstrap.settings import Settings
from domain.model.messages import IncomingText, RoomRenamed
from tests.unit.persistence.test_appservice_transactions import BOT, invite_event, text_event


def test_texts_renames_and_invites_are_mapped_and_encrypted_rooms_noted() -> None:
    rename = {**text_event("$n"), "type": "m.room.name", "state_key": "", "content": {"name": "Plans"}}
    megolm = {
        **text_event("$enc", room="!secret:localhost"),
        "type": "m.room.encrypted",
        "content": {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "A",
            "sender_key": "k",
            "session_id": "s",
            "device_id": "D",
        },
    }
    mapped = map_transaction([text_event("$t"), rename, megolm, invite_event("!dm:localhost")], BOT)
    assert [type(e) for e in mapped.events] == [IncomingText, RoomRenamed]
    assert mapped.encrypted_rooms == ["!secret:localhost"]
    assert [(i.room_id, i.inviter) for i in mapped.invitations] == [("!dm:localhost", "@alice:localhost")]


def test_every_request_names_the_bot_and_its_device_together() -> None:
    assert with_identity("/_matrix/client/v3/sync", "@b:x", None) == "/_matrix/client/v3/sync?user_id=%40b%3Ax"
    assert (
        with_identity("/_matrix/client/v3/rooms/!r/send/m.room.message/t?a=1", "@b:x", "DEV")
        == "/_matrix/client/v3/rooms/!r/send/m.room.message/t?a=1&user_id=%40b%3Ax&device_id=DEV"
    )


def test_the_registration_owns_only_the_bot_and_is_not_rate_limited() -> None:
    one = Registration.generate("http://127.0.0.1:8009", "bot.x", "localhost")
    two = Registration.generate("http://127.0.0.1:8009", "bot.x", "localhost")
    assert one.as_token != two.as_token and one.hs_token != one.as_token and len(one.hs_token) >= 40
    users = one.as_dict()["namespaces"]["users"]
    assert users == [{"exclusive": True, "regex": r"@bot\.x:localhost"}]
    assert re.fullmatch(users[0]["regex"], "@bot.x:localhost") and not re.fullmatch(
        users[0]["regex"], "@botxx:localhost"
    )
    assert one.as_dict()["rate_limited"] is False and one.as_dict()["sender_localpart"] == "bot.x"


BASE = {"homeserver_url": "http://hs", "user_id": "@bot:localhost", "mode": "appservice"}
PG = "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"as_token": "a", "hs_token": "h"}, "SURFACES_DATABASE_URL"),
        ({"as_token": "a", "hs_token": "h", "database_url": "sqlite+aiosqlite:///x.db"}, "SURFACES_DATABASE_URL"),
        ({"database_url": PG, "hs_token": "h"}, "SURFACES_AS_TOKEN"),
        ({"database_url": PG, "as_token": "a", "hs_token": "h", "encryption": True}, "SURFACES_ENCRYPTION"),
    ],
)
def test_appservice_mode_names_what_it_is_missing(overrides: dict[str, object], names: str) -> None:
    with pytest.raises(ValidationError, match=names):
        Settings(**{**BASE, **overrides}, _env_file=None)  # type: ignore[arg-type]


def test_appservice_settings_need_no_password_and_redact_the_tokens() -> None:
    settings = Settings(**BASE, database_url=PG, as_token="as-t", hs_token="hs-t", _env_file=None)  # type: ignore[arg-type]
    assert {"as-t", "hs-t"} <= set(settings.secrets())
    assert (
        settings.appservice_port == 8009
        and Settings(homeserver_url="http://hs", user_id="@b:x", password="p").mode == "sync"
    )
