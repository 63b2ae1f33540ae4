"""Any event a homeserver (or a hostile client) can put in a timeline maps to a domain value or None, never an error."""

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from nio import Event

from adapters.matrix.event_mapping import to_invitation, to_room_event
from domain.model.messages import IncomingFile, IncomingText, RoomRenamed

BOT = "@bot:example.org"
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
JSON = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
TYPES = st.sampled_from(["m.room.message", "m.room.name", "m.room.member", "m.room.encrypted", "m.reaction", "x.y"])
CONTENT = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"msgtype": st.one_of(st.sampled_from(["m.text", "m.notice", "m.file", "m.image"]), JSON), "body": JSON},
        optional={"m.relates_to": JSON, "format": JSON, "formatted_body": JSON, "url": JSON, "info": JSON},
    ),
    st.fixed_dictionaries({"name": JSON}),
    st.fixed_dictionaries({"membership": st.sampled_from(["invite", "join", "leave"])}),
)


@st.composite
def raw_events(draw: st.DrawFn) -> dict[str, Any]:
    # event_id, sender and origin_server_ts are set by the homeserver; type, content and state_key are
    # whatever a (possibly hostile) client sent.
    event: dict[str, Any] = {
        "type": draw(TYPES),
        "content": draw(CONTENT),
        "event_id": draw(st.from_regex(r"\$[A-Za-z0-9]{1,12}", fullmatch=True)),
        "sender": draw(st.sampled_from(["@alice:example.org", "@eve:evil.org", BOT])),
        "origin_server_ts": draw(st.integers(min_value=0, max_value=2**53)),
    }
    if draw(st.booleans()):
        event["state_key"] = draw(st.one_of(st.sampled_from(["", BOT]), JSON))
    return event


REGRESSIONS = [
    {
        "type": "m.room.message",
        "content": None,
        "event_id": "$e",
        "sender": "@alice:example.org",
        "origin_server_ts": 1,
    },
    {
        "type": "m.room.message",
        "content": {"msgtype": "m.text", "body": 5},
        "event_id": "$f",
        "sender": "@a:x",
        "origin_server_ts": 1,
    },
    {
        "type": "m.room.name",
        "content": {"name": ["x"]},
        "event_id": "$g",
        "sender": "@a:x",
        "origin_server_ts": 1,
        "state_key": "",
    },
]


@settings(max_examples=400, deadline=None)
@given(raw_events())
@example(REGRESSIONS[0])
@example(REGRESSIONS[1])
@example(REGRESSIONS[2])
def test_any_timeline_event_maps_without_error(source: dict[str, Any]) -> None:
    event = Event.parse_event(source)
    mapped = to_room_event("!room:example.org", event, BOT)
    assert mapped is None or isinstance(mapped, IncomingText | IncomingFile | RoomRenamed)
    if isinstance(mapped, IncomingText | IncomingFile):
        assert mapped.sender != BOT and isinstance(mapped.body, str)


@settings(max_examples=200, deadline=None)
@given(st.lists(raw_events(), max_size=4))
def test_any_invite_state_maps_without_error(sources: list[dict[str, Any]]) -> None:
    events = [Event.parse_event(source) for source in sources]
    invitation = to_invitation("!room:example.org", events, BOT)
    assert invitation is None or invitation.room_id == "!room:example.org"
