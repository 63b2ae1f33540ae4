"""Raw Matrix JSON for unit tests: events and sync responses as a homeserver would send them."""

import itertools
from collections.abc import Sequence
from typing import Any

from nio import SyncResponse

BOT = "@bot:example.org"
ALICE = "@alice:example.org"
SPACE = "!space:example.org"
CHAT = "!chat:example.org"

Json = dict[str, Any]
_ids = itertools.count(1)


def event_id() -> str:
    return f"$e{next(_ids)}"


def state(event_type: str, content: Any, state_key: str = "", sender: str = BOT) -> Json:
    return {
        "type": event_type,
        "state_key": state_key,
        "content": content,
        "sender": sender,
        "event_id": event_id(),
        "origin_server_ts": 1,
    }


def message(body: str, sender: str = ALICE, msgtype: str = "m.text", **content: Any) -> Json:
    return {
        "type": "m.room.message",
        "content": {"msgtype": msgtype, "body": body, **content},
        "sender": sender,
        "event_id": event_id(),
        "origin_server_ts": 2,
    }


def reply(to: str, body: str = "answer", sender: str = BOT) -> Json:
    return message(body, sender, **{"m.relates_to": {"m.in_reply_to": {"event_id": to}}})


def edit(of: str, body: str, sender: str = ALICE) -> Json:
    return message(
        f"* {body}",
        sender,
        **{"m.new_content": {"msgtype": "m.text", "body": body}},
        **{"m.relates_to": {"rel_type": "m.replace", "event_id": of}},
    )


def joined(
    state_events: Sequence[Json] = (), timeline: Sequence[Json] = (), limited: bool = False, prev_batch: str = "p0"
) -> Json:
    return {
        "state": {"events": list(state_events)},
        "timeline": {"events": list(timeline), "limited": limited, "prev_batch": prev_batch},
    }


def sync(join: dict[str, Json] | None = None, leave: Sequence[str] = (), next_batch: str = "s1") -> SyncResponse:
    raw = {
        "next_batch": next_batch,
        "rooms": {
            "join": join or {},
            "leave": {room_id: {"state": {"events": []}, "timeline": {"events": []}} for room_id in leave},
            "invite": {},
        },
    }
    response = SyncResponse.from_dict(raw)
    assert isinstance(response, SyncResponse), response
    return response


def room_record(**overrides: Any) -> Json:
    content: Json = {
        "owner": ALICE,
        "space_id": SPACE,
        "chat_id": "C1",
        "agent_id": "echo",
        "platform_chat_id": "pc-1",
        "status": "active",
        "version": 1,
    }
    content.update(overrides)
    return {k: v for k, v in content.items() if v is not None}
