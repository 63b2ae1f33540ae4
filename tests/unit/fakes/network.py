"""Hand-written fakes of the chat-network and platform ports, recording what the domain asked for."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from domain.model.agent import AgentEvent, AgentFailed, AgentRequest, Done, TextDelta
from domain.model.context import ChatContext
from domain.model.ids import EventId, PlatformChatId, RoomId, UserId
from domain.model.media import UploadedMedia
from domain.model.observed import ObservedTopology
from domain.model.outgoing_file import OutgoingFile
from domain.model.room import ChatRoom
from domain.model.space import UserSpace
from ports.messenger import MessageSender
from ports.platform import ContextTransferUnsupported, PlatformClient, PlatformError
from ports.topology import ChatTopology, NewRoom
from ports.topology_reader import TopologyReader

T = TypeVar("T")


@dataclass
class SentMessage:
    room_id: RoomId
    text: str
    reply_to: EventId | None
    txn_id: str | None
    notice: bool = False
    file: OutgoingFile | None = None  # set for a posted file; `text` is then its media reference
    media: UploadedMedia | None = None  # for a posted file: its reference and key
    thread: EventId | None = None  # the thread root a reply was posted in


@dataclass
class FakeMessageSender(MessageSender):
    sent: list[SentMessage] = field(default_factory=list)
    typing: list[tuple[RoomId, bool]] = field(default_factory=list)
    edits: list[tuple[EventId, str]] = field(default_factory=list)
    _txns: set[str] = field(default_factory=set)

    async def send_reply(
        self,
        room_id: RoomId,
        reply_to: EventId,
        markdown: str,
        txn_id: str,
        notice: bool = False,
        thread: EventId | None = None,
    ) -> EventId:
        return self._record(SentMessage(room_id, markdown, reply_to, txn_id, notice, thread=thread))

    async def send_file(
        self, room_id: RoomId, reply_to: EventId, file: OutgoingFile, media: UploadedMedia, txn_id: str
    ) -> EventId:
        return self._record(SentMessage(room_id, media.url, reply_to, txn_id, file=file, media=media))

    async def send_notice(self, room_id: RoomId, markdown: str, txn_id: str | None = None) -> EventId:
        return self._record(SentMessage(room_id, markdown, None, txn_id, notice=True))

    async def edit_message(self, room_id: RoomId, event_id: EventId, markdown: str, txn_id: str) -> EventId:
        if txn_id not in self._txns:
            self.edits.append((event_id, markdown))
            self._txns.add(txn_id)
        return EventId(f"$edit{len(self.edits)}")

    def shown(self, event_id: EventId) -> str:
        """What a client shows for our message: its last edit, else its original text."""
        edited = [text for edited_id, text in self.edits if edited_id == event_id]
        index = int(event_id.removeprefix("$sent")) - 1
        return edited[-1] if edited else self.sent[index].text

    async def set_typing(self, room_id: RoomId, typing: bool) -> None:
        self.typing.append((room_id, typing))

    def _record(self, message: SentMessage) -> EventId:
        # Like a homeserver: a repeated transaction id posts nothing new.
        if message.txn_id is None or message.txn_id not in self._txns:
            self.sent.append(message)
        if message.txn_id is not None:
            self._txns.add(message.txn_id)
        return EventId(f"$sent{len(self.sent)}")

    def texts_in(self, room_id: RoomId) -> list[str]:
        return [m.text for m in self.sent if m.room_id == room_id and m.file is None]

    def files_in(self, room_id: RoomId) -> list[OutgoingFile]:
        return [m.file for m in self.sent if m.room_id == room_id and m.file is not None]


@dataclass
class FakeChatTopology(ChatTopology):
    server: str = "example.org"
    names: dict[UserId, str] = field(default_factory=dict)
    spaces: dict[RoomId, UserSpace] = field(default_factory=dict)
    rooms: dict[RoomId, NewRoom] = field(default_factory=dict)
    children: dict[RoomId, list[RoomId]] = field(default_factory=dict)
    room_state: dict[RoomId, ChatRoom] = field(default_factory=dict)
    joined: list[RoomId] = field(default_factory=list)
    rejected: list[RoomId] = field(default_factory=list)
    room_names: dict[RoomId, str] = field(default_factory=dict)
    parents: dict[RoomId, list[RoomId]] = field(default_factory=dict)
    invited: list[tuple[RoomId, UserId]] = field(default_factory=list)
    fail_room_creation: bool = False

    @property
    def server_name(self) -> str:
        return self.server

    async def display_name(self, user_id: UserId) -> str:
        return self.names.get(user_id, user_id)

    async def join(self, room_id: RoomId) -> None:
        self.joined.append(room_id)

    async def reject(self, room_id: RoomId, reason: str) -> None:
        self.rejected.append(room_id)

    async def create_space(self, name: str, space: UserSpace) -> RoomId:
        room_id = RoomId(f"!space{len(self.spaces) + 1}:{self.server}")
        self.spaces[room_id] = space
        return room_id

    async def create_chat_room(self, new_room: NewRoom) -> RoomId:
        if self.fail_room_creation:
            raise RuntimeError("homeserver down")
        room_id = RoomId(f"!room{len(self.rooms) + 1}:{self.server}")
        self.rooms[room_id] = new_room
        return room_id

    async def link_child(self, space_id: RoomId, room_id: RoomId) -> None:
        self.children.setdefault(space_id, []).append(room_id)

    async def link_parent(self, room_id: RoomId, space_id: RoomId) -> None:
        self.parents.setdefault(room_id, []).append(space_id)

    async def unlink_child(self, space_id: RoomId, room_id: RoomId) -> None:
        self.children[space_id].remove(room_id)

    async def set_room_name(self, room_id: RoomId, name: str) -> None:
        self.room_names[room_id] = name

    async def invite(self, room_id: RoomId, user_id: UserId) -> None:
        self.invited.append((room_id, user_id))

    async def write_room_state(self, room: ChatRoom) -> None:
        self.room_state[room.room_id] = room


@dataclass
class ScriptedPlatform(PlatformClient):
    """Answers every request with the given events; keeps each chat's texts, so context transfer is observable."""

    events: list[AgentEvent] = field(default_factory=lambda: [TextDelta(text="ok"), Done()])
    requests: list[AgentRequest] = field(default_factory=list)
    disconnected: list[PlatformChatId] = field(default_factory=list)
    histories: dict[PlatformChatId, list[str]] = field(default_factory=dict)
    context_transfer: bool = True
    title: str | None = None

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        self.requests.append(request)
        self.histories.setdefault(request.platform_chat_id, []).append(request.text)
        for event in self.events:
            yield event

    async def disconnect_chat(self, chat: ChatContext) -> None:
        self.disconnected.append(chat.platform_chat_id)

    async def export_context(self, chat: ChatContext) -> str:
        if not self.context_transfer:
            raise ContextTransferUnsupported("no")
        return "\n".join(self.histories.get(chat.platform_chat_id, []))

    async def import_context(self, chat: ChatContext, payload: str) -> None:
        if not self.context_transfer:
            raise ContextTransferUnsupported("no")
        self.histories[chat.platform_chat_id] = payload.split("\n") if payload else []

    async def suggest_title(self, chat: ChatContext, question: str, answer: str) -> str | None:
        return self.title

    async def health(self) -> bool:
        return True


def failing_platform(message: str) -> ScriptedPlatform:
    return ScriptedPlatform(events=[AgentFailed(message=message)])


@dataclass
class FakeTopologyReader(TopologyReader):
    topology: ObservedTopology = field(default_factory=ObservedTopology)

    async def observe(self) -> ObservedTopology:
        return self.topology


class InstantRetry:
    """RetryRunner without waiting: up to `attempts` tries, `on_retry` before each further one."""

    def __init__(self, attempts: int = 3) -> None:
        self.attempts = attempts

    async def run(self, attempt: Callable[[], Awaitable[T]], on_retry: Callable[[int], Awaitable[None]]) -> T:
        for number in range(1, self.attempts + 1):
            try:
                return await attempt()
            except PlatformError:
                if number == self.attempts:
                    raise
                await on_retry(number)
        raise AssertionError("unreachable")


@dataclass
class FakeReadReceipts:
    """`ReadReceipts` that keeps each (room, event) marked read, in order."""

    marked: list[tuple[RoomId, EventId]] = field(default_factory=list)

    async def mark_read(self, room_id: RoomId, event_id: EventId) -> None:
        self.marked.append((room_id, event_id))
