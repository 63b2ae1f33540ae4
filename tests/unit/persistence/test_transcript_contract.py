"""The contract every UnitOfWork implementation keeps for transcripts (fixture `uow_factory`: fake, SQLite,
PostgreSQL)."""

from domain.model.ids import PlatformChatId
from ports.transcripts import TranscriptEntry
from ports.unit_of_work import UnitOfWorkFactory

CHAT, OTHER = PlatformChatId("pc-1"), PlatformChatId("pc-2")
LONG = "ünïcode « » and emoji 🙂 " * 20_000


def user(content: str) -> TranscriptEntry:
    return TranscriptEntry(role="user", content=content)


def assistant(content: str) -> TranscriptEntry:
    return TranscriptEntry(role="assistant", content=content)


async def test_history_is_every_appended_message_in_order(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.transcripts.history(CHAT) == []
        await uow.transcripts.append(CHAT, "user", "question")
        await uow.transcripts.append(CHAT, "assistant", LONG)
        # Read back inside the same transaction too.
        assert await uow.transcripts.history(CHAT) == [user("question"), assistant(LONG)]
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.transcripts.history(CHAT) == [user("question"), assistant(LONG)]


async def test_order_holds_beyond_nine_messages_and_across_transactions(uow_factory: UnitOfWorkFactory) -> None:
    for number in range(12):
        async with uow_factory() as uow:
            await uow.transcripts.append(CHAT, "user", f"m{number}")
            await uow.commit()
    async with uow_factory() as uow:
        assert [entry.content for entry in await uow.transcripts.history(CHAT)] == [f"m{n}" for n in range(12)]


async def test_chats_never_see_each_others_messages(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.transcripts.append(CHAT, "user", "mine")
        await uow.transcripts.append(OTHER, "user", "theirs")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.transcripts.history(CHAT) == [user("mine")]
        assert await uow.transcripts.history(OTHER) == [user("theirs")]


async def test_nothing_is_kept_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.transcripts.append(CHAT, "user", "kept")
        await uow.commit()
        await uow.transcripts.append(CHAT, "assistant", "rolled back")
        await uow.rollback()
        await uow.transcripts.append(CHAT, "assistant", "never committed")
    async with uow_factory() as uow:
        assert await uow.transcripts.history(CHAT) == [user("kept")]


async def test_replace_makes_the_transcript_exactly_the_entries_and_appends_continue(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        for content in ("a", "b", "c"):
            await uow.transcripts.append(CHAT, "user", content)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.transcripts.replace(CHAT, [user("seed"), assistant("seeded")])
        await uow.transcripts.append(CHAT, "user", "next")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.transcripts.history(CHAT) == [user("seed"), assistant("seeded"), user("next")]
        await uow.transcripts.replace(OTHER, [])
        assert await uow.transcripts.history(OTHER) == []


async def test_delete_forgets_only_that_chat(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.transcripts.append(CHAT, "user", "forget me")
        await uow.transcripts.append(OTHER, "user", "keep me")
        await uow.commit()
    async with uow_factory() as uow:
        await uow.transcripts.delete(CHAT)
        await uow.transcripts.delete(PlatformChatId("pc-never-seen"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.transcripts.history(CHAT) == []
        assert await uow.transcripts.history(OTHER) == [user("keep me")]
        await uow.transcripts.append(CHAT, "user", "a fresh start")
        assert await uow.transcripts.history(CHAT) == [user("a fresh start")]
