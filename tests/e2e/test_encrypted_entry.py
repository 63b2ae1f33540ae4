"""Element makes DMs encrypted by default; onboarding must work from one all the same."""

from nio import RoomCreateResponse, RoomPreset

from tests.e2e.conftest import BotUnderTest, NewUser
from tests.e2e.helpers import ask, body, bot_message_in, state_of


async def test_an_encrypted_dm_still_gets_a_space_and_a_working_chat(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    created = await user.client.room_create(
        is_direct=True,
        preset=RoomPreset.trusted_private_chat,
        invite=[bot.user_id],
        initial_state=[
            {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
        ],
    )
    assert isinstance(created, RoomCreateResponse), created
    dm = created.room_id

    pointer = await user.wait_for(bot_message_in(dm, bot), 30)
    assert "matrix.to" in body(pointer)
    invited = {await user.wait_for_invite(30), await user.wait_for_invite(30)}
    for room_id in invited:
        await user.join(room_id)
    chats = [r for r in invited if state_of(await user.room_state(r), "dev.surfaces.room") is not None]
    assert len(chats) == 1

    answer = await ask(user, bot, chats[0], "hello from an encrypted client")
    assert body(answer) == "hello from an encrypted client"
