"""Messages that arrive before their key: real Megolm (vodozemac through nio), a fake clock-free wait."""

import asyncio
import json

from nio import AsyncClient, AsyncClientConfig
from nio.crypto import InboundGroupSession, OutboundGroupSession
from nio.store import SqliteMemoryStore

from adapters.matrix.decryption import DecryptingHandler
from adapters.matrix.encrypted_events import decrypt
from adapters.matrix.key_maintenance import KeyArrivals
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import EncryptedMessage, IncomingText, RoomEvent, UnreadableMessage
from tests.unit.fakes.unit_of_work import FakeStore, FakeUnitOfWorkFactory

ROOM = RoomId("!chat:example.org")
ALICE = UserId("@alice:example.org")
BOT = "@bot:example.org"


class Megolm:
    """Alice's outbound session; `key_arrives` gives the bot the inbound half, as an `m.room_key` would."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._outbound = OutboundGroupSession()
        self._outbound.shared = True
        self._session_key = self._outbound.session_key  # exported before the first message: index 0

    def message(self, event_id: str, content: dict[str, object]) -> EncryptedMessage:
        payload = {"type": "m.room.message", "content": content, "room_id": ROOM}
        source = {
            "type": "m.room.encrypted",
            "event_id": event_id,
            "sender": ALICE,
            "origin_server_ts": 1,
            "room_id": ROOM,
            "content": {
                "algorithm": "m.megolm.v1.aes-sha2",
                "sender_key": "alice-curve25519",
                "ciphertext": self._outbound.encrypt(json.dumps(payload)),
                "session_id": self._outbound.id,
                "device_id": "ALICEDEVICE",
            },
        }
        return EncryptedMessage(event_id=EventId(event_id), room_id=ROOM, sender=ALICE, ciphertext=json.dumps(source))

    def key_arrives(self) -> None:
        session = InboundGroupSession(self._session_key, "alice-ed25519", "alice-curve25519", ROOM)
        self._client.olm.inbound_group_store.add(session)


def bot_client() -> AsyncClient:
    client = AsyncClient("http://127.0.0.1:1", BOT, config=AsyncClientConfig(store=SqliteMemoryStore))
    client.restore_login(BOT, "BOTDEVICE", "token")
    return client


def handler(
    client: AsyncClient, arrivals: KeyArrivals, wait_s: float, store: FakeStore
) -> tuple[DecryptingHandler, list[RoomEvent]]:
    handled: list[RoomEvent] = []

    async def handle(event: RoomEvent) -> None:
        handled.append(event)

    return DecryptingHandler(client, handle, arrivals, FakeUnitOfWorkFactory(store), wait_s), handled


def text(body: str) -> dict[str, object]:
    return {"msgtype": "m.text", "body": body}


async def test_a_message_whose_key_is_there_reaches_the_domain_as_its_text() -> None:
    client = bot_client()
    megolm = Megolm(client)
    megolm.key_arrives()
    decrypting, handled = handler(client, KeyArrivals(), 0, FakeStore())

    await decrypting(megolm.message("$one", text("hello")))

    assert handled == [IncomingText(event_id=EventId("$one"), room_id=ROOM, sender=ALICE, body="hello", timestamp_ms=1)]


async def test_a_key_that_arrives_while_waiting_opens_the_message() -> None:
    client = bot_client()
    megolm = Megolm(client)
    arrivals = KeyArrivals()
    decrypting, handled = handler(client, arrivals, 30, FakeStore())
    waiting = asyncio.create_task(decrypting(megolm.message("$late", text("read late"))))
    await asyncio.sleep(0.05)
    assert not handled and not waiting.done()

    megolm.key_arrives()
    arrivals.notify()
    await asyncio.wait_for(waiting, 5)

    assert [getattr(e, "body", None) for e in handled] == ["read late"]


async def test_a_key_that_never_comes_makes_the_message_unreadable_once_the_wait_is_over() -> None:
    client = bot_client()
    megolm = Megolm(client)
    decrypting, handled = handler(client, KeyArrivals(), 0.05, FakeStore())

    await decrypting(megolm.message("$lost", text("never read")))

    assert handled == [UnreadableMessage(event_id=EventId("$lost"), room_id=ROOM, sender=ALICE, timestamp_ms=0)]


async def test_an_encrypted_notice_is_marked_done_without_reaching_the_domain() -> None:
    client = bot_client()
    megolm = Megolm(client)
    megolm.key_arrives()
    store = FakeStore()
    decrypting, handled = handler(client, KeyArrivals(), 0, store)
    notice = megolm.message("$notice", {"msgtype": "m.notice", "body": "another bot talking"})
    async with FakeUnitOfWorkFactory(store)() as uow:
        await uow.inbox.record(notice)
        await uow.commit()

    await decrypting(notice)

    assert handled == []
    async with FakeUnitOfWorkFactory(store)() as uow:
        assert await uow.inbox.is_done(EventId("$notice"))


async def test_an_encrypted_edit_of_a_question_reaches_the_domain_as_an_edit() -> None:
    client = bot_client()
    megolm = Megolm(client)
    megolm.key_arrives()
    decrypting, handled = handler(client, KeyArrivals(), 0, FakeStore())
    edit = megolm.message(
        "$edit",
        {
            **text("* fixed"),
            "m.new_content": text("fixed"),
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$question"},
        },
    )

    await decrypting(edit)

    assert [(type(e).__name__, getattr(e, "edits", None), getattr(e, "body", None)) for e in handled] == [
        ("QuestionEdited", "$question", "fixed")
    ]


def test_garbage_ciphertext_reads_as_missing_not_as_a_crash() -> None:
    message = EncryptedMessage(event_id=EventId("$bad"), room_id=ROOM, sender=ALICE, ciphertext="{not json")
    assert decrypt(bot_client(), message) is None
