"""ORM rows for the database index. They never leave this package: repositories map them
to the domain dataclasses."""

from datetime import datetime
from typing import Final, cast

from sqlalchemy import BigInteger, DateTime, Index, Integer, MetaData, String, Table, Text, false, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Matrix ids (user, room, event) are at most 255 bytes by the spec.
MATRIX_ID = String(255)

# Named constraints: SQLite batch migrations can only alter constraints that have names,
# and the names must be identical on every backend for a migration to target them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SpaceRow(Base):
    __tablename__ = "spaces"

    owner: Mapped[str] = mapped_column(MATRIX_ID, primary_key=True)
    display_name: Mapped[str] = mapped_column(Text)
    space_id: Mapped[str | None] = mapped_column(MATRIX_ID, unique=True)
    chats_created: Mapped[int] = mapped_column(Integer)


class RoomRow(Base):
    __tablename__ = "rooms"

    room_id: Mapped[str] = mapped_column(MATRIX_ID, primary_key=True)
    owner: Mapped[str] = mapped_column(MATRIX_ID, index=True)
    space_id: Mapped[str] = mapped_column(MATRIX_ID)
    chat_number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[str] = mapped_column(String(255))
    # Unique: two rooms sharing one upstream conversation would leak one chat into another.
    platform_chat_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    message_count: Mapped[int] = mapped_column(Integer)
    archived_notice_sent: Mapped[bool] = mapped_column(server_default=false())


class SnapshotRow(Base):
    __tablename__ = "snapshots"

    owner: Mapped[str] = mapped_column(MATRIX_ID, primary_key=True)
    label: Mapped[str] = mapped_column(String(255), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(255))
    source_chat_id: Mapped[str] = mapped_column(String(255))
    # Whatever the agent's adapter exported; a long conversation can run to megabytes.
    payload: Mapped[str] = mapped_column(Text)
    message_count: Mapped[int] = mapped_column(Integer)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)


class InboxRow(Base):
    __tablename__ = "inbox"

    event_id: Mapped[str] = mapped_column(MATRIX_ID, primary_key=True)
    room_id: Mapped[str] = mapped_column(MATRIX_ID, index=True)
    sender: Mapped[str] = mapped_column(MATRIX_ID)
    body: Mapped[str] = mapped_column(Text)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    # Tie-breaker for messages with the same origin timestamp: the order they reached us.
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done: Mapped[bool] = mapped_column(server_default=false())
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "text" or "file"; a file's details (name, kind, mimetype, size, media reference) are the JSON
    # payload, its caption the body.
    kind: Mapped[str] = mapped_column(String(16), server_default="text")
    payload: Mapped[str | None] = mapped_column(Text)

    # Undone rows by sender: whose messages wait (the lease sweep of appservice mode); done rows are left out.
    __table_args__ = (
        Index("ix_inbox_pending_sender", "sender", postgresql_where=text("NOT done"), sqlite_where=text("NOT done")),
    )


class StagedFileRow(Base):
    """A file received in a room without a caption, waiting for the room's next text message."""

    __tablename__ = "staged_files"

    room_id: Mapped[str] = mapped_column(MATRIX_ID, primary_key=True)
    event_id: Mapped[str] = mapped_column(MATRIX_ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(Text)
    mime_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    workspace_path: Mapped[str] = mapped_column(Text)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)


class AppserviceTransactionRow(Base):
    """A transaction the homeserver pushed (appservice mode), taken in; its events are in the inbox."""

    __tablename__ = "appservice_transactions"

    txn_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class PendingInvitationRow(Base):
    """An invitation of the bot taken in (appservice mode) and not acted on yet; removed once it is."""

    __tablename__ = "pending_invitations"

    room_id: Mapped[str] = mapped_column(MATRIX_ID, primary_key=True)
    inviter: Mapped[str] = mapped_column(MATRIX_ID, index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PersonLeaseRow(Base):
    """Which replica works on a person's messages (appservice mode), until when, under which fencing generation.

    The row outlives its holder (holder NULL once released) so the generation only ever grows.
    """

    __tablename__ = "person_leases"

    person: Mapped[str] = mapped_column(MATRIX_ID, primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(255))
    generation: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SyncStateRow(Base):
    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class TranscriptRow(Base):
    """One message of an upstream chat; `seq` orders a chat's messages from 1."""

    __tablename__ = "transcripts"

    chat_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)


class LatestTurnRow(Base):
    """Each room's latest answered question and the bot's answer event (what regenerate and edit replace)."""

    __tablename__ = "latest_turns"

    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(255))
    question: Mapped[str] = mapped_column(Text)
    answer_id: Mapped[str] = mapped_column(String(255))
    trigger: Mapped[str | None] = mapped_column(String(255), nullable=True)


# The Core tables behind the rows, for the statements run on every message: a Core statement skips the
# ORM's identity map and session synchronisation, which cost more than the query itself (measured with
# `make bench`).
INBOX: Final = cast(Table, InboxRow.__table__)
ROOMS: Final = cast(Table, RoomRow.__table__)
STAGED_FILES: Final = cast(Table, StagedFileRow.__table__)
SYNC_STATE: Final = cast(Table, SyncStateRow.__table__)
PERSON_LEASES: Final = cast(Table, PersonLeaseRow.__table__)
LATEST_TURNS: Final = cast(Table, LatestTurnRow.__table__)
SNAPSHOTS: Final = cast(Table, SnapshotRow.__table__)
APPSERVICE_TRANSACTIONS: Final = cast(Table, AppserviceTransactionRow.__table__)
