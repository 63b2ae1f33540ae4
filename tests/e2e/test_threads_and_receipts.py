"""Issue 18, acceptance 4 and read receipts: a threaded question is answered in the same thread, unthreaded
questions are unaffected, and the bot marks each message it takes as read."""

from __future__ import annotations

from tests.e2e.conftest import BotUnderTest, NewUser
from tests.e2e.harness import Event
from tests.e2e.helpers import WAIT, ask, onboard, reply_from


def _thread_of(event: Event) -> str | None:
    relates = event.get("content", {}).get("m.relates_to", {})
    return relates.get("event_id") if relates.get("rel_type") == "m.thread" else None


async def test_a_threaded_question_is_answered_in_its_thread(bot: BotUnderTest, new_user: NewUser) -> None:
    alice = await new_user()
    _, _, chat = await onboard(alice, bot)
    root_answer = await ask(alice, bot, chat, "first, in the main timeline")
    assert _thread_of(root_answer) is None

    root = await alice.send_text(chat, "a thread starts here")
    await alice.wait_for(reply_from(bot, chat, root), WAIT)
    threaded = await alice.send_in_thread(chat, root, "a question in the thread")
    answer = await alice.wait_for(reply_from(bot, chat, threaded), WAIT)

    assert _thread_of(answer) == root
    # The thread shares the room's conversation: the echo agent counts the messages before this one.
    after = await ask(alice, bot, chat, "back in the main timeline")
    assert _thread_of(after) is None


async def test_each_message_is_marked_read_by_the_bot(bot: BotUnderTest, new_user: NewUser) -> None:
    alice = await new_user()
    _, _, chat = await onboard(alice, bot)
    question = await alice.send_text(chat, "did you get this?")
    await alice.wait_for(reply_from(bot, chat, question), WAIT)

    for _ in range(WAIT):
        if (chat, question, bot.user_id) in alice.receipts:
            return
        await alice.sync_once(1000)
    raise AssertionError(f"no read receipt from the bot on {question}: {alice.receipts}")
