"""`uv run python -m bench.storage`: what the bot's PostgreSQL holds per person, per room and per message.

The rows are written through the bot's own repositories (the SQLAlchemy unit of work, the migrated schema, a
throwaway PostgreSQL cluster), with contents of the size real ones have: Matrix ids of today's length, a question
of about 200 characters, an answer of about 1,000 (kept only by openai agents, in `transcripts`). Two fills
separate the cost of a room from the cost of a message; `VACUUM ANALYZE` first, then `pg_total_relation_size`
(rows, indexes and TOAST). The figures feed docs/scaling.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.migrate import upgrade_database
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from domain.model.context import ChatContext
from domain.model.ids import AgentId, EventId, RoomId, UserId
from domain.model.messages import IncomingText
from domain.model.room import ChatRoom
from domain.model.space import UserSpace
from domain.model.turn import LatestTurn
from tests.servers.postgres import postgres_cluster

QUESTION = "How do I rotate the API keys of the staging cluster without downtime? " * 3
ANSWER = "Rotate one replica at a time behind the load balancer, then revoke the old key. " * 12
TABLES = ("spaces", "rooms", "inbox", "latest_turns", "transcripts", "person_leases")


def event_id() -> EventId:
    return EventId(f"${secrets.token_urlsafe(32)}")  # room v4+ event ids: 43 characters of base64


def room_id(server: str) -> RoomId:
    return RoomId(f"!{secrets.token_urlsafe(13)}:{server}")


async def fill(url: str, people: int, rooms: int, messages: int, transcripts: bool) -> None:
    """`people` people, each with a Space, `rooms` chats and `messages` answered questions per chat."""
    engine = make_engine(url)
    uow_factory = SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))
    try:
        for n in range(people):
            owner = UserId(f"@person-{n:06}:example.org")
            async with uow_factory() as uow:
                await uow.spaces.add(
                    UserSpace(owner=owner, display_name=f"Person {n}", space_id=room_id("example.org"))
                )
                for chat in range(1, rooms + 1):
                    await _one_room(uow, owner, chat, messages, transcripts)
                await uow.commit()
    finally:
        await engine.dispose()


async def _one_room(uow: Any, owner: UserId, chat: int, messages: int, transcripts: bool) -> None:
    context = ChatContext.fresh(AgentId("default"))
    room = ChatRoom(
        room_id=room_id("example.org"),
        owner=owner,
        space_id=room_id("example.org"),
        chat_number=chat,
        name=f"Chat {chat}",
        context=context,
        message_count=messages,
    )
    await uow.rooms.add(room)
    for m in range(messages):
        question = IncomingText(
            event_id=event_id(), room_id=room.room_id, sender=owner, body=QUESTION, timestamp_ms=1_700_000_000_000 + m
        )
        await uow.inbox.record(question)
        await uow.inbox.mark_done(question.event_id)
        if transcripts:
            await uow.transcripts.append(context.platform_chat_id, "user", QUESTION)
            await uow.transcripts.append(context.platform_chat_id, "assistant", ANSWER)
    if messages:
        await uow.turns.save(
            LatestTurn(room_id=room.room_id, question_id=event_id(), question=QUESTION, answer_id=event_id())
        )


async def sizes(url: str) -> dict[str, int]:
    engine: AsyncEngine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("VACUUM ANALYZE"))
            out = {}
            for table in TABLES:
                size = await connection.execute(text(f"SELECT pg_total_relation_size('{table}')"))
                out[table] = int(size.scalar_one())
            return out
    finally:
        await engine.dispose()


async def measure(people: int, rooms: int, messages: int) -> dict[str, Any]:
    results: dict[str, Any] = {"people": people, "rooms_per_person": rooms, "messages_per_room": messages}
    for cluster in postgres_cluster():
        for label, count, transcripts in (("rooms_only", 0, False), ("with_messages", messages, False)):
            url = await cluster.empty_database()
            await upgrade_database(url)
            await fill(url, people, rooms, count, transcripts)
            results[label] = await sizes(url)
        url = await cluster.empty_database()
        await upgrade_database(url)
        await fill(url, people, rooms, messages, True)
        results["with_transcripts"] = await sizes(url)
    return results | {"per": per_unit(results)}


def per_unit(results: dict[str, Any]) -> dict[str, float]:
    people, rooms = results["people"], results["people"] * results["rooms_per_person"]
    messages = rooms * results["messages_per_room"]
    empty, filled = sum(results["rooms_only"].values()), sum(results["with_messages"].values())
    return {
        "bytes_per_room_incl_space": round(empty / rooms, 1),
        "bytes_per_answered_message": round((filled - empty) / messages, 1) if messages else 0.0,
        "bytes_per_message_transcripts": round((sum(results["with_transcripts"].values()) - filled) / messages, 1)
        if messages
        else 0.0,
        "rooms": rooms,
        "people": people,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.storage", description=__doc__)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=10, help="chats per person")
    parser.add_argument("--messages", type=int, default=20, help="answered questions per chat")
    args = parser.parse_args()
    results = asyncio.run(measure(args.people, args.rooms, args.messages))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
