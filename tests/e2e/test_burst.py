"""Issue 11 acceptance 3: 20 messages sent at once into each of five rooms of one person, each answered exactly once.

The person's flood guard is raised above the 100 messages for this test: refusing a flood is its own
feature (`test_faults.py`), while this one checks that a burst loses nothing and answers nothing twice,
in every room, with the default timeline limit (so `limited` syncs and their back-fill are in play).
"""

import asyncio
from collections import Counter

from tests.e2e.conftest import BotStarter, NewUser
from tests.e2e.helpers import body, new_chat, onboard, replies_to, reply_from

ROOMS = 5
PER_ROOM = 20
WAIT = 120  # seconds for the last of the 100 answers on a busy CI machine
SETTLE = 3.0  # a duplicate would follow the first answer quickly; give it the time to show


async def test_twenty_messages_at_once_in_each_of_five_rooms_are_each_answered_exactly_once(
    start_bot: BotStarter, new_user: NewUser
) -> None:
    bot = start_bot(SURFACES_RATE_LIMIT_BURST="1000")
    user = await new_user()
    _, _, first = await onboard(user, bot)
    rooms = [first, *[await new_chat(user, bot, first) for _ in range(ROOMS - 1)]]

    texts = {room: [f"burst {r}.{m}" for m in range(PER_ROOM)] for r, room in enumerate(rooms)}
    sends = [(room, text, user.send_text(room, text)) for room in rooms for text in texts[room]]
    event_ids = await asyncio.gather(*(send for _, _, send in sends))
    asked = {event_id: (room, text) for (room, text, _), event_id in zip(sends, event_ids, strict=True)}

    for event_id, (room, _) in asked.items():
        await user.wait_for(reply_from(bot, room, event_id), WAIT)
    await asyncio.sleep(SETTLE)

    replies: Counter[str] = Counter()
    wrong: list[str] = []
    for room in rooms:
        for event in await user.messages(room, 300):  # read back from the server, not from our sync
            if event["sender"] != bot.user_id or event["type"] != "m.room.message":
                continue
            for event_id, (asked_room, text) in asked.items():
                if asked_room == room and replies_to(event, event_id):
                    replies[event_id] += 1
                    if body(event) != text:
                        wrong.append(f"{event_id}: {body(event)!r} instead of {text!r}")
    not_once = {event_id: replies[event_id] for event_id in asked if replies[event_id] != 1}
    assert not not_once, f"replies per message, where not exactly one: {not_once}"
    assert not wrong, "answers that are not the echo of their message:\n" + "\n".join(wrong)
