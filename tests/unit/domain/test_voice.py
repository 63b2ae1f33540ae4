"""Voice messages: transcribed, answered from the transcript (quoted above the answer); without a transcriber
the audio is a file as before; a failing transcriber is retried with one notice, and its give-up is told."""

from dataclasses import dataclass, field, replace

from domain.catalog import Catalog
from domain.model.attachment import Attachment
from domain.model.messages import MediaKind
from domain.model.room import ChatRoom
from domain.services.handle_message import HandleMessage
from domain.services.receive_file import ReceiveFile
from domain.services.transcribe_voice import TranscribeVoice
from ports.transcriber import TranscriptionFailed
from tests.unit.domain.conftest import MAX_BYTES, World, build_world
from tests.unit.domain.test_files import a_file, chat_of, done, record
from tests.unit.fakes.network import InstantRetry


@dataclass
class FakeTranscriber:
    text: str = "what is the weather"
    failures: int = 0
    heard: list[Attachment] = field(default_factory=list)

    async def transcribe(self, audio: Attachment) -> str:
        self.heard.append(audio)
        if self.failures:
            self.failures -= 1
            raise TranscriptionFailed("transcriber answered 503")
        return self.text


def with_voice(world: World, transcriber: FakeTranscriber | None, attempts: int = 3) -> HandleMessage:
    catalog = Catalog("en")
    answer = world.handle._answer
    files = ReceiveFile(world.uow, world.media, world.workspace, world.sender, answer, catalog, MAX_BYTES)
    voice = TranscribeVoice(world.uow, files, answer, world.sender, catalog, transcriber, InstantRetry(attempts))
    return HandleMessage(
        world.uow, world.handle._access, answer, world.handle._commands, world.sender, world.topology, catalog, voice
    )


def voice_note(room: ChatRoom, world: World, caption: str = "") -> object:
    return replace(
        a_file(room, 1, "voice.ogg", caption=caption, world=world), kind=MediaKind.AUDIO, mime_type="audio/ogg"
    )


async def test_a_voice_note_is_answered_from_its_transcript_quoted_above_the_answer() -> None:
    world = build_world()
    room = await chat_of(world)
    transcriber = FakeTranscriber()
    note = voice_note(room, world)
    await record(world, note)

    await with_voice(world, transcriber).execute(note)

    (request,) = world.platform.requests
    assert request.text == "what is the weather" and request.attachments == ()
    assert transcriber.heard[0].filename == "voice.ogg"
    (reply,) = world.sender.sent
    assert reply.text == "> what is the weather\n\nok" and reply.reply_to == note.event_id
    assert await done(world, note.event_id)


async def test_without_a_transcriber_audio_is_a_file_as_before() -> None:
    world = build_world()
    room = await chat_of(world)
    note = voice_note(room, world)
    await record(world, note)

    await with_voice(world, None).execute(note)

    assert world.platform.requests == []  # staged, to go with the next text
    assert "voice.ogg" in world.sender.sent[0].text


async def test_a_failing_transcriber_is_retried_with_one_notice_then_answered() -> None:
    world = build_world()
    room = await chat_of(world)
    note = voice_note(room, world)
    await record(world, note)

    await with_voice(world, FakeTranscriber(failures=2)).execute(note)

    notice, answer = world.sender.sent
    assert notice.notice and "cannot transcribe" in notice.text
    assert answer.text.startswith("> what is the weather")


async def test_a_transcriber_that_never_comes_back_is_given_up_with_a_notice() -> None:
    world = build_world()
    room = await chat_of(world)
    note = voice_note(room, world)
    await record(world, note)

    await with_voice(world, FakeTranscriber(failures=10), attempts=2).execute(note)

    assert world.platform.requests == []
    assert "gave up" in world.sender.sent[-1].text
    assert await done(world, note.event_id)
