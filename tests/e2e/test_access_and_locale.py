"""SPEC §2.1-§2.3: only the owner is answered in a chat room, only allowed users are onboarded,
and SURFACES_LOCALE=ru speaks Russian."""

from domain.catalog import LOCALES
from tests.e2e.conftest import BotStarter, BotUnderTest, NewUser
from tests.e2e.helpers import (
    WAIT,
    ask,
    body,
    bot_message_in,
    db_rows,
    new_chat,
    onboard,
    owner_rows,
    replies_to,
    room_name,
    state_map,
)


async def test_a_stranger_in_the_owners_room_gets_no_answer(bot: BotUnderTest, new_user: NewUser) -> None:
    owner, stranger = await new_user(), await new_user()
    _, space, chat = await onboard(owner, bot)
    await owner.invite(chat, stranger.user_id)
    await stranger.join(chat)
    state_before = {room: await state_map(owner, room) for room in (space, chat)}
    db_before = owner_rows(bot, owner.user_id)

    ignored = [
        await stranger.send_text(chat, "hello, I am not the owner"),
        await stranger.send_text(chat, "!clear"),
        await stranger.send_text(chat, "!new"),
    ]
    # The room's events are handled in order: once the owner's command is answered, the bot is past
    # the stranger's messages.
    await ask(owner, bot, chat, "!context")

    await owner.sync_once(500)
    answered = [e for room, e in owner.events if room == chat and any(replies_to(e, i) for i in ignored)]
    assert answered == [], f"the bot answered the stranger: {answered}"
    states_after = {room: await state_map(owner, room) for room in (space, chat)}
    for room in (space, chat):
        members = ("m.room.member", stranger.user_id)
        assert {k: v for k, v in states_after[room].items() if k != members} == {
            k: v for k, v in state_before[room].items() if k != members
        }, f"the stranger's messages changed the state of {room}"
    assert owner_rows(bot, owner.user_id) == db_before
    assert owner_rows(bot, stranger.user_id) == {"spaces": [], "rooms": [], "snapshots": []}
    assert await stranger.invites_pending() == [], "the stranger was invited somewhere"


async def test_an_invite_from_a_user_who_is_not_allowed_is_rejected(start_bot: BotStarter, new_user: NewUser) -> None:
    allowed, outsider = await new_user(), await new_user()
    bot = start_bot(SURFACES_ALLOWED_USERS=allowed.user_id)

    dm = await outsider.create_dm(bot.user_id)

    def bot_left(room: str, event: dict[str, object]) -> bool:
        content = event.get("content")
        return (
            room == dm
            and event["type"] == "m.room.member"
            and event.get("state_key") == bot.user_id
            and isinstance(content, dict)
            and content.get("membership") == "leave"
        )

    await outsider.wait_for(bot_left, WAIT)
    await onboard(allowed, bot)  # the bot carries on, and the allowed user is served
    assert await outsider.invites_pending() == [], "the outsider was invited to a Space or room"
    assert owner_rows(bot, outsider.user_id) == {"spaces": [], "rooms": [], "snapshots": []}
    assert len(db_rows(bot, "SELECT * FROM spaces")) == 1
    assert not [e for room, e in outsider.events if room == dm and bot_message_in(dm, bot)(room, e)]


async def test_russian_locale_names_chats_and_answers_in_russian(start_bot: BotStarter, new_user: NewUser) -> None:
    bot = start_bot(SURFACES_LOCALE="ru")
    user = await new_user()
    _, _, chat = await onboard(user, bot)

    assert await room_name(user, chat) == "Чат 1"
    ru = LOCALES["ru"]
    help_text = body(await ask(user, bot, chat, "!help"))
    assert ru["help"].splitlines()[0] in help_text  # "**Команды**"
    unknown = body(await ask(user, bot, chat, "!frobnicate"))
    assert unknown.startswith(ru["unknown_command"].split("`")[0]), unknown  # "Неизвестная команда"
    second = await new_chat(user, bot, chat)
    assert await room_name(user, second) == "Чат 2"
