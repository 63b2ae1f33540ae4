"""Encrypted events nio could not decrypt on arrival: kept as they came, decrypted again later."""

import json
import logging
from typing import Any

from nio import AsyncClient, EncryptionError, Event, MegolmEvent

from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import EncryptedMessage

log = logging.getLogger(__name__)


def to_encrypted_message(room_id: str, event: Event, own_user_id: str) -> EncryptedMessage | None:
    """A Megolm event from someone else that nio left undecrypted (no key yet); our own events are never answered."""
    if not isinstance(event, MegolmEvent) or event.sender == own_user_id:
        return None
    source: dict[str, Any] = {**event.source, "room_id": room_id}
    return EncryptedMessage(
        event_id=EventId(event.event_id),
        room_id=RoomId(room_id),
        sender=UserId(event.sender),
        ciphertext=json.dumps(source),
        timestamp_ms=int(event.server_timestamp or 0),
    )


def decrypt(client: AsyncClient, message: EncryptedMessage) -> Event | None:
    """The decrypted event, or None while its key is missing (or when the ciphertext cannot be read at all)."""
    if client.olm is None:
        return None
    try:
        event = MegolmEvent.from_dict(json.loads(message.ciphertext))
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(event, MegolmEvent):  # nio returns BadEvent for a malformed one
        return None
    event.room_id = message.room_id
    try:
        decrypted: Event = client.decrypt_event(event)
    except EncryptionError:
        return None
    return decrypted
