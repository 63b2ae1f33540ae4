"""Incoming messages keyed by Matrix event id: the exactly-once ledger."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Insert, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.inbox_controls import CONTROL_KINDS, control_from_row, control_kind_and_payload
from adapters.persistence.tables import INBOX, InboxRow
from adapters.persistence.upsert import insert_unless_present
from domain.model.controls import QuestionEdited, Reaction
from domain.model.ids import EventId, RoomId, UserId
from domain.model.media import MediaKey
from domain.model.messages import (
    EncryptedMessage,
    IncomingFile,
    IncomingText,
    MediaKind,
    UnreadableMessage,
)
from ports.inbox import Inbox, InboxItem

TEXT: Final = "text"
FILE: Final = "file"
ENCRYPTED: Final = "encrypted"  # not decrypted when it arrived: the payload is the encrypted event, kept to retry
UNREADABLE: Final = "unreadable"


class SqlAlchemyInbox(Inbox):
    """`Inbox` over one `AsyncSession`; the unit of work commits, never this."""

    def __init__(self, session: AsyncSession, arrival_by_database: bool = False) -> None:
        self._session = session
        # Several processes recording into one PostgreSQL database (appservice replicas): `received_at` from the
        # database's one clock, so arrival order holds across them (`clock_timestamp()` grows row by row).
        self._arrival_by_database = arrival_by_database

    async def record(self, message: InboxItem) -> bool:
        values = {
            "event_id": message.event_id,
            "room_id": message.room_id,
            "sender": message.sender,
            "body": message.body,
            "timestamp_ms": message.timestamp_ms,
            "received_at": _receipt_clock.now(),
            "done": False,
            **_kind_and_payload(message),
        }
        dialect = self._session.get_bind().dialect.name
        by_database = self._arrival_by_database and dialect == "postgresql"
        statement = _insert_unless_known(dialect, by_database)
        if statement is None:
            return await self._record_in_savepoint(values)
        if by_database:
            del values["received_at"]  # the statement takes it from the database's clock
        # RETURNING yields a row only when the INSERT was not skipped as a duplicate.
        result = await self._session.execute(statement, values)
        return result.first() is not None

    async def is_done(self, event_id: EventId) -> bool:
        row = (await self._session.execute(_IS_DONE, {"b_event_id": event_id})).first()
        return row is not None and bool(row.done)

    async def mark_done(self, event_id: EventId) -> None:
        # Unknown event ids are ignored: there is nothing to answer for them.
        await self._session.execute(_MARK_DONE, {"b_event_id": event_id, "b_done_at": datetime.now(UTC)})

    async def pending(self, room_id: RoomId | None = None) -> list[InboxItem]:
        query = select(InboxRow).where(InboxRow.done.is_(False))
        if room_id is not None:
            query = query.where(InboxRow.room_id == room_id)
        query = query.order_by(InboxRow.timestamp_ms, InboxRow.received_at, InboxRow.event_id)
        return [inbox_item(row) for row in await self._session.scalars(query)]

    async def _record_in_savepoint(self, values: dict[str, object]) -> bool:
        # Portable fallback for dialects without ON CONFLICT: the savepoint confines the
        # failed INSERT so the rest of the transaction survives.
        try:
            async with self._session.begin_nested():
                self._session.add(InboxRow(**values))
        except IntegrityError:
            return False
        return True


def _insert_unless_known(dialect: str, arrival_by_database: bool = False) -> Insert | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING event_id, built once per dialect (the values are parameters)."""
    if (dialect, arrival_by_database) not in _INSERTS:
        statement = insert_unless_present(dialect, INBOX, "event_id")
        if statement is not None and arrival_by_database:
            statement = statement.values(received_at=func.clock_timestamp())
        _INSERTS[dialect, arrival_by_database] = statement
    return _INSERTS[dialect, arrival_by_database]


_INSERTS: dict[tuple[str, bool], Insert | None] = {}
# Built once: these run for every message, and a prepared Core statement is compiled only once.
_IS_DONE: Final = select(INBOX.c.done).where(INBOX.c.event_id == bindparam("b_event_id"))
_MARK_DONE: Final = (
    update(INBOX)
    .where(INBOX.c.event_id == bindparam("b_event_id"), INBOX.c.done.is_(False))
    .values(done=True, done_at=bindparam("b_done_at"))
)


class _ReceiptClock:
    """Strictly increasing timestamps, so messages recorded in the same microsecond
    still come back in the order they were recorded."""

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=UTC)

    def now(self) -> datetime:
        self._last = max(datetime.now(UTC), self._last + timedelta(microseconds=1))
        return self._last


_receipt_clock = _ReceiptClock()


def _kind_and_payload(message: InboxItem) -> dict[str, Any]:
    if isinstance(message, Reaction | QuestionEdited):
        return control_kind_and_payload(message)
    if isinstance(message, IncomingText):
        return {"kind": TEXT, "payload": _text_payload(message)}
    if isinstance(message, EncryptedMessage):
        return {"kind": ENCRYPTED, "payload": message.ciphertext}
    if isinstance(message, UnreadableMessage):
        return {"kind": UNREADABLE, "payload": None}
    details = {
        "filename": message.filename,
        "kind": message.kind.value,
        "mime_type": message.mime_type,
        "size": message.size,
        "media": message.media,
        "media_key": _key_payload(message.media_key),
    }
    # ensure_ascii: a hostile name's lone surrogates or NULs are stored as escapes, never raw.
    return {"kind": FILE, "payload": json.dumps(details)}


def inbox_item(row: InboxRow) -> InboxItem:
    """The domain value of an inbox row (also read by the lease dispatch of appservice mode)."""
    if row.kind in CONTROL_KINDS:
        return control_from_row(row.kind, row.payload, row)
    event_id, room_id, sender = EventId(row.event_id), RoomId(row.room_id), UserId(row.sender)
    if row.kind == ENCRYPTED and row.payload is not None:
        return EncryptedMessage(
            event_id=event_id, room_id=room_id, sender=sender, ciphertext=row.payload, timestamp_ms=row.timestamp_ms
        )
    if row.kind == UNREADABLE:
        return UnreadableMessage(event_id=event_id, room_id=room_id, sender=sender, timestamp_ms=row.timestamp_ms)
    if row.kind == FILE and row.payload is not None:
        details = json.loads(row.payload)
        return IncomingFile(
            event_id=EventId(row.event_id),
            room_id=RoomId(row.room_id),
            sender=UserId(row.sender),
            filename=details["filename"],
            caption=row.body,
            kind=MediaKind(details["kind"]),
            mime_type=details["mime_type"],
            size=details["size"],
            media=details["media"],
            timestamp_ms=row.timestamp_ms,
            media_key=_key_from(details.get("media_key")),  # rows from before encryption have none
        )
    return IncomingText(
        event_id=EventId(row.event_id),
        room_id=RoomId(row.room_id),
        sender=UserId(row.sender),
        body=row.body,
        timestamp_ms=row.timestamp_ms,
        thread_root=_thread_root(row.payload),
    )


def _key_payload(key: MediaKey | None) -> dict[str, str] | None:
    return None if key is None else {"key": key.key, "iv": key.iv, "sha256": key.sha256}


def _key_from(payload: Any) -> MediaKey | None:
    if not isinstance(payload, dict):
        return None
    return MediaKey(key=payload["key"], iv=payload["iv"], sha256=payload["sha256"])


def _text_payload(message: IncomingText) -> str | None:
    # Most texts have no details worth a JSON document: NULL, as before threads.
    return None if message.thread_root is None else json.dumps({"thread_root": message.thread_root})


def _thread_root(payload: str | None) -> EventId | None:
    root = json.loads(payload).get("thread_root") if payload else None
    return EventId(root) if isinstance(root, str) else None
