"""SPEC §2.2: messages within one room are handled in order; different rooms proceed concurrently.

Measured by the order in which the user's sync saw the replies, never by wall-clock thresholds.
"""

from tests.e2e.conftest import BotUnderTest, NewUser
from tests.e2e.harness import MatrixUser
from tests.e2e.helpers import WAIT, body, new_chat, onboard, reply_from


def _position(user: MatrixUser, event_id: str) -> int:
    return next(i for i, (_, e) in enumerate(user.events) if e.get("event_id") == event_id)


async def test_a_slow_answer_in_one_room_does_not_delay_another_room(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, room_a = await onboard(user, bot)
    room_b = await new_chat(user, bot, room_a)

    slow = await user.send_text(room_a, "!!sleep 4 slow")
    fast = await user.send_text(room_b, "fast")
    fast_reply = await user.wait_for(reply_from(bot, room_b, fast), WAIT)
    slow_reply = await user.wait_for(reply_from(bot, room_a, slow), WAIT)

    assert body(fast_reply) == "fast" and body(slow_reply) == "slow"
    assert _position(user, fast_reply["event_id"]) < _position(user, slow_reply["event_id"]), (
        "room B's answer waited for room A's slow agent"
    )


async def test_messages_in_one_room_are_answered_in_order(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)

    texts = ("!!sleep 2 first", "second", "!!sleep 1 third", "fourth")
    sent = [await user.send_text(chat, text) for text in texts]
    replies = [await user.wait_for(reply_from(bot, chat, event_id), WAIT) for event_id in sent]

    assert [body(reply) for reply in replies] == ["first", "second", "third", "fourth"]
    positions = [_position(user, reply["event_id"]) for reply in replies]
    assert positions == sorted(positions), "a later message was answered before an earlier one"
