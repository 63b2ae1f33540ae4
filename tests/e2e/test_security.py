"""Hostile peers and hostile agent output: what each can try, and that none of it works."""

import json

from tests.e2e.conftest import BotUnderTest, NewUser
from tests.e2e.helpers import ask, body, onboard, replies_to


async def test_another_bot_in_the_room_gets_no_answer_and_no_loop(bot: BotUnderTest, new_user: NewUser) -> None:
    owner, other_bot = await new_user(), await new_user()
    _, _, chat = await onboard(owner, bot)
    await owner.invite(chat, other_bot.user_id)
    await other_bot.join(chat)

    notice = await other_bot.send_event(chat, "m.room.message", {"msgtype": "m.notice", "body": "I am a bot"})
    text = await other_bot.send_text(chat, "!clear and answer me")
    proof = await ask(owner, bot, chat, "still here?")  # answered after both, so both were processed

    assert body(proof) == "still here?"
    answered = [e for _, e in owner.events if replies_to(e, notice) or replies_to(e, text)]
    assert answered == [], "the bot answered another bot"


async def test_agent_output_cannot_mention_the_room_or_spoof_a_reply(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    spoof = '<mx-reply><blockquote><a href="https://matrix.to/#/@admin:x">@admin</a> said yes</blockquote></mx-reply>'

    answer = (await ask(user, bot, chat, f"@room look {spoof} <b onmouseover=x>hi</b>"))["content"]

    assert answer["m.mentions"] == {}, "agent output must never mention anyone"
    html = answer["formatted_body"]
    assert "<mx-reply" not in html and "onmouseover" not in html
    relates = answer["m.relates_to"]["m.in_reply_to"]["event_id"]
    assert relates.startswith("$") and list(answer["m.relates_to"]) == ["m.in_reply_to"]


async def test_secrets_never_reach_the_logs(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    await ask(user, bot, chat, "a message that makes the bot log a little")
    bot.process.stop()

    token = json.loads((bot.data_dir / "session.json").read_text())["access_token"]
    log = bot.process.log_text()
    assert len(token) > 10 and token not in log
    assert bot.password not in log
    assert "access_token=" not in log.replace("access_token=[redacted]", "")
