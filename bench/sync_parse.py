"""`uv run python -m bench.sync_parse`: how long nio takes to parse a 1,000-event sync response, with nio's own
schema checks and with the compiled ones the bot installs (adapters/matrix/compiled_schemas.py)."""

from __future__ import annotations

import json
import timeit

from nio import SyncResponse

from adapters.matrix import compiled_schemas

ROOMS, PER_ROOM, REPEATS = 50, 20, 5


def sync_text() -> str:
    """50 rooms, each with 10 messages from a person and the bot's 10 replies, as in the burst."""

    def event(room: int, n: int) -> dict[str, object]:
        content: dict[str, object] = {"msgtype": "m.text", "body": f"burst r{room} m{n}"}
        sender = "@person:localhost"
        if n % 2:
            sender = "@bot:localhost"
            content |= {"format": "org.matrix.custom.html", "formatted_body": content["body"]}
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": f"$r{room}e{n - 1}"}}
        return {
            "type": "m.room.message",
            "sender": sender,
            "event_id": f"$r{room}e{n}",
            "origin_server_ts": 1795644711039,
            "content": content,
            "unsigned": {"age": 12},
        }

    join = {
        f"!room{room}:localhost": {
            "timeline": {"events": [event(room, n) for n in range(PER_ROOM)], "limited": False, "prev_batch": "p"},
            "state": {"events": []},
        }
        for room in range(ROOMS)
    }
    return json.dumps({"next_batch": "s2", "rooms": {"join": join, "invite": {}, "leave": {}}})


def parse_ms(text: str) -> float:
    SyncResponse.from_dict(json.loads(text))  # the first parse compiles the schemas
    return 1000 * timeit.timeit(lambda: SyncResponse.from_dict(json.loads(text)), number=REPEATS) / REPEATS


def main() -> None:
    text = sync_text()
    before = parse_ms(text)
    compiled_schemas.install()
    after = parse_ms(text)
    print(f"{ROOMS * PER_ROOM}-event sync parsed by nio: {before:.1f} ms with nio's checks, {after:.1f} ms compiled")


if __name__ == "__main__":
    main()
