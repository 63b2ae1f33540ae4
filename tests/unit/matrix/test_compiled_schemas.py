"""The compiled validator decides every nio schema as nio's own jsonschema validator does.

Differential: each of nio's schemas meets a corpus of events and responses as a homeserver sends them,
and versions of each with one field removed, nulled or of another type. Both validators must accept or
refuse the same instances and fill in the same defaults.
"""

import copy
from collections.abc import Iterator
from typing import Any

import nio.schemas
import pytest
from jsonschema.exceptions import ValidationError
from nio import SyncResponse

from adapters.matrix import compiled_schemas
from tests.unit.matrix.sync_json import ALICE, BOT, CHAT, SPACE, edit, joined, message, reply, state

Json = Any
SCHEMAS = {
    name: schema
    for name in dir(nio.schemas.Schemas)
    if not name.startswith("_") and isinstance(schema := getattr(nio.schemas.Schemas, name), dict)
}
_EVENTS: list[Json] = [
    message("hello"),
    message("note", msgtype="m.notice"),
    message("pic.png", msgtype="m.image", url="mxc://example.org/abc", info={"mimetype": "image/png", "size": 3}),
    message("a.csv", msgtype="m.file", url="mxc://example.org/def"),
    reply("$q"),
    edit("$q", "fixed"),
    state("m.room.member", {"membership": "join", "displayname": "Alice"}, ALICE, ALICE),
    state("m.room.member", {"membership": "invite"}, BOT, ALICE),
    state("m.room.name", {"name": "Chat 1"}),
    state("m.room.topic", {"topic": "t"}),
    state("m.room.create", {"creator": BOT, "room_version": "12"}),
    state("m.room.power_levels", {"users": {BOT: 100, ALICE: 50}, "events": {"m.room.name": 100}}),
    state("m.space.child", {"via": ["example.org"]}, CHAT),
    state("m.space.parent", {"via": ["example.org"], "canonical": True}, SPACE),
    state("m.room.join_rules", {"join_rule": "invite"}),
    state("m.room.history_visibility", {"history_visibility": "shared"}),
    {
        "type": "m.room.redaction",
        "redacts": "$x",
        "content": {},
        "sender": ALICE,
        "event_id": "$r",
        "origin_server_ts": 3,
    },
    {
        "type": "m.reaction",
        "content": {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$x", "key": "👍"}},
        "sender": ALICE,
        "event_id": "$re",
        "origin_server_ts": 4,
    },
]


def raw_sync(room: Json) -> Json:
    return {"next_batch": "s1", "rooms": {"join": {CHAT: room}, "invite": {}, "leave": {}}}


_RESPONSES: list[Json] = [
    raw_sync(joined(state_events=_EVENTS[6:9], timeline=_EVENTS[:6], limited=True)),
    {"event_id": "$sent"},
    {"room_id": CHAT},
    {"errcode": "M_FORBIDDEN", "error": "no"},
    {"user_id": BOT, "device_id": "D", "access_token": "t"},
    {"joined": {BOT: {"display_name": "bot"}}},
    {"chunk": _EVENTS[:3], "start": "s1", "end": "s2"},
    {"content_uri": "mxc://example.org/up"},
    {},
]
_ODD_VALUES: list[Json] = [None, 1, 1.5, "bob", True, [], {}]


def _variants(instance: Json) -> Iterator[Json]:
    """The instance, then each version with one field (at the top or one level down) removed or replaced."""
    yield instance
    if not isinstance(instance, dict):
        return
    for key, value in instance.items():
        without = {k: v for k, v in instance.items() if k != key}
        yield without
        for odd in _ODD_VALUES:
            yield {**instance, key: odd}
        if isinstance(value, dict):
            for inner in value:
                yield {**instance, key: {k: v for k, v in value.items() if k != inner}}
                for odd in _ODD_VALUES[:4]:
                    yield {**instance, key: {**value, inner: odd}}


def _decision(validate: Any, instance: Json, schema: dict[str, Any]) -> tuple[bool, Json]:
    mine = copy.deepcopy(instance)
    try:
        validate(mine, schema)
    except ValidationError:
        return False, None
    return True, mine


def _nio_validate(instance: Json, schema: dict[str, Any]) -> None:
    nio.schemas.Validator(schema, format_checker=nio.schemas.Checker).validate(instance)


CORPUS = [variant for base in [*_EVENTS, *_RESPONSES, "text", 3, [], None] for variant in _variants(base)]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_both_validators_decide_alike_and_fill_the_same_defaults(name: str) -> None:
    schema = SCHEMAS[name]
    for instance in CORPUS:
        expected = _decision(_nio_validate, instance, schema)
        assert _decision(compiled_schemas.validate_json, instance, schema) == expected, (name, instance)


def test_a_sync_response_parses_to_the_same_events_after_install() -> None:
    raw = raw_sync(joined(state_events=_EVENTS[6:9], timeline=[*_EVENTS, {"type": "m.room.message", "bad": 1}]))
    before = SyncResponse.from_dict(copy.deepcopy(raw))
    compiled_schemas.install()
    after = SyncResponse.from_dict(copy.deepcopy(raw))
    assert after.rooms.join[CHAT].timeline.events == before.rooms.join[CHAT].timeline.events
    assert after.rooms.join[CHAT].state == before.rooms.join[CHAT].state
    assert nio.responses.validate_json is compiled_schemas.validate_json
