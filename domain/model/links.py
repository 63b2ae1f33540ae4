"""matrix.to links, the client-neutral way to point a person at a room."""

from urllib.parse import quote

from domain.model.ids import RoomId


def matrix_to(room_id: RoomId, via: str) -> str:
    return f"https://matrix.to/#/{quote(room_id, safe='')}?via={quote(via, safe='')}"
