"""SPEC §2.4 / issue 5: files both ways through the shared workspace, against the real Synapse and the
real bot process (echo agent: `!!file <path>` and `!!write <name> <text>` emit files, and its answer
lists what it received as `received: <workspace_path>` lines)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
from pathlib import Path
from typing import Any

from PIL import Image

from domain.model.file_names import safe_name
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingFile, MediaKind
from domain.model.workspace_layout import inbox_path, room_inbox
from tests.e2e.conftest import BotStarter, BotUnderTest, NewUser
from tests.e2e.harness import Event, MatrixUser
from tests.e2e.helpers import WAIT, ask, body, new_chat, onboard, reply_from

RECEIVED = re.compile(r"^received: (.+)$", re.MULTILINE)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def send_file(
    user: MatrixUser,
    room_id: str,
    data: bytes,
    name: str,
    caption: str | None = None,
    mimetype: str = "application/octet-stream",
    declared_size: int | None = None,
    msgtype: str = "m.file",
) -> str:
    """Uploads `data` and posts it under `name` exactly as given (hostile names included); with a
    caption, `body` is the caption and `filename` the name, as the spec (v1.10) has it."""
    mxc = await user.upload(data, mimetype, "upload.bin")
    content: dict[str, Any] = {
        "msgtype": msgtype,
        "body": caption if caption is not None else name,
        "filename": name,
        "url": mxc,
        "info": {"mimetype": mimetype, "size": len(data) if declared_size is None else declared_size},
    }
    return await user.send_event(room_id, "m.room.message", content)


async def bot_reply(user: MatrixUser, bot: BotUnderTest, room_id: str, event_id: str) -> Event:
    return await user.wait_for(reply_from(bot, room_id, event_id), WAIT)


async def own_event(user: MatrixUser, event_id: str) -> Event:
    return await user.wait_for(lambda _, e: e.get("event_id") == event_id, WAIT)


async def expected_path(user: MatrixUser, room_id: str, event_id: str, name: str) -> str:
    """Where the bot must have put this upload: the domain's own layout, from the event as the server has it."""
    event = await own_event(user, event_id)
    file = IncomingFile(
        event_id=EventId(event_id),
        room_id=RoomId(room_id),
        sender=UserId(user.user_id),
        filename=name,
        caption="",
        kind=MediaKind.FILE,
        mime_type="",
        size=None,
        media="",
        timestamp_ms=int(event["origin_server_ts"]),
    )
    return inbox_path(file)


def files_under(root: Path) -> set[str]:
    """Every non-directory entry under `root` (hidden and partial files included), relative."""
    if not root.exists():
        return set()
    return {str(path.relative_to(root)) for path in root.rglob("*") if not path.is_dir()}


def bot_files(user: MatrixUser, bot: BotUnderTest, room_id: str) -> list[Event]:
    """The m.file / m.image events the bot posted in the room so far."""
    return [
        e
        for room, e in user.events
        if room == room_id
        and e["sender"] == bot.user_id
        and e.get("content", {}).get("msgtype") in ("m.file", "m.image")
    ]


def text_of(event: Event) -> str:
    """The body of any event; "" for state and other events without one."""
    return str(event.get("content", {}).get("body", ""))


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


# -- 1. upload: the file lands at the expected relative path, byte for byte; the agent gets that path ----


async def test_an_uploaded_file_reaches_the_agent_by_its_relative_path(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    data = os.urandom(200_000)

    sent = await send_file(user, chat, data, "report.pdf", mimetype="application/pdf")
    ack = await bot_reply(user, bot, chat, sent)
    assert ack["content"]["msgtype"] == "m.notice" and "report.pdf" in body(ack)

    answer = await ask(user, bot, chat, "what is in it?")
    path = await expected_path(user, chat, sent, "report.pdf")
    assert RECEIVED.findall(body(answer)) == [path]
    assert not path.startswith("/") and str(bot.workspace_dir) not in body(answer)
    assert sha256((bot.workspace_dir / path).read_bytes()) == sha256(data)

    again = await ask(user, bot, chat, "and now?")
    assert RECEIVED.findall(body(again)) == []  # sent on once, then unstaged


async def test_a_file_with_a_caption_goes_to_the_agent_at_once(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    data = png(8, 6)
    sent = await send_file(
        user, chat, data, "photo.png", caption="describe this", mimetype="image/png", msgtype="m.image"
    )
    answer = await bot_reply(user, bot, chat, sent)
    path = await expected_path(user, chat, sent, "photo.png")
    assert body(answer).startswith("describe this") and RECEIVED.findall(body(answer)) == [path]
    assert sha256((bot.workspace_dir / path).read_bytes()) == sha256(data)


async def test_a_10_mb_file_is_staged_promptly(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    data = os.urandom(10 * 1024 * 1024)
    mxc = await user.upload(data, "application/octet-stream", "big.bin")
    content = {"msgtype": "m.file", "body": "big.bin", "url": mxc, "info": {"size": len(data)}}
    started = time.monotonic()
    sent = await user.send_event(chat, "m.room.message", content)
    await bot_reply(user, bot, chat, sent)
    elapsed = time.monotonic() - started
    print(f"10 MB file: event sent -> staged and acknowledged in {elapsed:.2f} s")
    path = await expected_path(user, chat, sent, "big.bin")
    assert sha256((bot.workspace_dir / path).read_bytes()) == sha256(data)
    assert elapsed < 20


# -- 2. agent-emitted files come back as m.file / m.image with the same bytes --------------------------


async def test_a_file_the_agent_writes_is_posted_with_the_same_bytes(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    sent = await user.send_text(chat, "!!write notes.txt Hello, files! Привет.")
    posted = await user.wait_for(
        lambda room, e: room == chat and e["sender"] == bot.user_id and e["content"].get("msgtype") == "m.file", WAIT
    )
    assert posted["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == sent
    written = next(bot.workspace_dir.glob("surfaces/echo/*/notes.txt")).read_bytes()
    assert written == "Hello, files! Привет.".encode()
    downloaded = await user.download(posted["content"]["url"])
    assert sha256(downloaded) == sha256(written)
    info = posted["content"]["info"]
    assert posted["content"]["body"] == "notes.txt" and info["size"] == len(written)
    assert info["mimetype"] == "text/plain"


async def test_an_image_the_agent_emits_is_an_m_image_with_dimensions(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    data = png(64, 48)
    target = bot.workspace_dir / "agent-out" / "chart.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)

    sent = await user.send_text(chat, "!!file agent-out/chart.png")
    posted = await user.wait_for(
        lambda room, e: room == chat and e["sender"] == bot.user_id and e["content"].get("msgtype") == "m.image", WAIT
    )
    assert posted["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == sent
    assert posted["content"]["info"] == {"mimetype": "image/png", "size": len(data), "w": 64, "h": 48}
    assert sha256(await user.download(posted["content"]["url"])) == sha256(data)


# -- 3. hostile names: stored under safe names inside the room's inbox, nothing outside it -------------

HOSTILE_NAMES = [
    "../../etc/passwd",
    "..",
    "a/b\\c",
    "nul\x00byte.txt",
    "invoice\u202egnp.exe",
    "\u2066isolated\u2069.txt",
    "ж" * 150 + ".txt",  # 304 bytes
    "",
    "CON",
]


async def test_hostile_names_are_stored_safely_inside_the_rooms_inbox(
    bot: BotUnderTest, new_user: NewUser, tmp_path: Path
) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    before = files_under(tmp_path)

    expected: set[str] = set()
    for number, name in enumerate(HOSTILE_NAMES):
        data = f"file {number}".encode()
        sent = await send_file(user, chat, data, name)
        await bot_reply(user, bot, chat, sent)
        path = await expected_path(user, chat, sent, name)
        assert (bot.workspace_dir / path).read_bytes() == data
        expected.add(path)

    inbox = room_inbox(user.user_id, chat)
    assert files_under(bot.workspace_dir) == expected
    for path in expected:
        directory, name = path.rsplit("/", 1)
        assert directory == inbox
        stored = name.split("-", 2)[2]  # after the stamp: "{time}-{hash}-{safe name}"
        assert stored == safe_name(stored) and len(stored.encode()) <= 120
        assert not any(c in stored for c in "/\\\x00\u202e\u2066\u2069") and stored not in (".", "..")
    # Nothing appeared anywhere else under the test's directory (the bot's data and log aside).
    new = {p for p in files_under(tmp_path) - before if not p.startswith(("bot/data/", "bot/bot.log"))}
    assert new == {f"bot/workspace/{path}" for path in expected}

    answer = await ask(user, bot, chat, "what did I send?")
    assert sorted(RECEIVED.findall(body(answer))) == sorted(expected)


# -- 4. over-size uploads are refused; no file, not even a partial one -----------------------------------


async def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(start_bot: BotStarter, new_user: NewUser) -> None:
    bot = start_bot(SURFACES_MAX_UPLOAD_MB="1")
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    big = os.urandom(1_572_864)  # 1.5 MB

    honest = await send_file(user, chat, big, "honest.bin")
    refusal = await bot_reply(user, bot, chat, honest)
    assert "larger than the limit of 1 MB" in body(refusal) and refusal["content"]["msgtype"] == "m.notice"

    liar = await send_file(user, chat, big, "liar.bin", declared_size=1000)  # only the bytes read tell
    assert "larger than the limit of 1 MB" in body(await bot_reply(user, bot, chat, liar))

    small = await send_file(user, chat, b"fits", "small.txt")
    await bot_reply(user, bot, chat, small)
    assert files_under(bot.workspace_dir) == {await expected_path(user, chat, small, "small.txt")}
    answer = await ask(user, bot, chat, "what arrived?")
    assert [Path(p).name.endswith("small.txt") for p in RECEIVED.findall(body(answer))] == [True]

    (bot.workspace_dir / "big-out.bin").write_bytes(big)
    emitted = await ask(user, bot, chat, "!!file big-out.bin")
    notice = await user.wait_for(
        lambda room, e: room == chat and e["sender"] == bot.user_id and "was not sent" in text_of(e), WAIT
    )
    assert "larger than the limit of 1 MB" in body(notice) and emitted
    assert bot_files(user, bot, chat) == []


# -- 5. agent paths that are absolute, climb out or are symlinks out of the root are refused -------------


async def test_agent_paths_leaving_the_workspace_are_refused(
    bot: BotUnderTest, new_user: NewUser, tmp_path: Path
) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("never to be posted")
    (bot.workspace_dir / "escape").mkdir(parents=True, exist_ok=True)
    (bot.workspace_dir / "escape" / "link.txt").symlink_to(secret)
    (bot.workspace_dir / "escape" / "dir").symlink_to(secret.parent)

    cases = {
        "/etc/passwd": "absolute paths are not allowed",
        str(secret): "absolute paths are not allowed",
        "../../x": "may not contain `..`",
        "escape/../../outside/secret.txt": "may not contain `..`",
        "escape/link.txt": "points outside the shared workspace",
        "escape/dir/secret.txt": "points outside the shared workspace",
        "escape": "not a regular file",
        "nothing/here.txt": "no such file",
    }
    for path, reason in cases.items():
        sent = await user.send_text(chat, f"!!file {path}")
        notice = await user.wait_for(
            lambda room, e, sent=sent: (
                room == chat
                and e["sender"] == bot.user_id
                and e["content"].get("msgtype") == "m.notice"
                and e["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id") == sent
            ),
            WAIT,
        )
        assert reason in body(notice) and "was not sent" in body(notice), (path, body(notice))
    assert bot_files(user, bot, chat) == []
    assert "never to be posted" not in bot.process.log_text()


# -- 6. a file staged in room A goes only with A's next message ---------------------------------------


async def test_a_file_staged_in_one_room_goes_only_with_that_rooms_next_message(
    bot: BotUnderTest, new_user: NewUser
) -> None:
    user = await new_user()
    _, _, room_a = await onboard(user, bot)
    room_b = await new_chat(user, bot, room_a)

    sent = await send_file(user, room_a, b"for room A only", "a.txt", mimetype="text/plain")
    await bot_reply(user, bot, room_a, sent)
    assert "staged files: `a.txt`" in body(await ask(user, bot, room_a, "!context"))
    assert "staged files: none" in body(await ask(user, bot, room_b, "!context"))

    in_b = await ask(user, bot, room_b, "hello from B")
    assert body(in_b) == "hello from B"

    in_a = await ask(user, bot, room_a, "hello from A")
    path = await expected_path(user, room_a, sent, "a.txt")
    assert body(in_a) == f"hello from A\nreceived: {path}"
    assert path.startswith(room_inbox(user.user_id, room_a))
    assert "staged files: none" in body(await ask(user, bot, room_a, "!context"))


# -- restarts: a file sent while the bot is down is handled once it is back -----------------------------


async def test_a_file_sent_while_the_bot_is_down_is_staged_once_after_the_restart(
    bot: BotUnderTest, new_user: NewUser
) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    assert bot.process.stop() == 0
    sent = await send_file(user, chat, b"sent while down", "late.txt", mimetype="text/plain")
    bot.process.start()
    bot.process.wait_ready(WAIT)

    await bot_reply(user, bot, chat, sent)
    answer = await ask(user, bot, chat, "did it arrive?")
    path = await expected_path(user, chat, sent, "late.txt")
    assert RECEIVED.findall(body(answer)) == [path]
    assert (bot.workspace_dir / path).read_bytes() == b"sent while down"
    acks = [e for room, e in user.events if room == chat and reply_from(bot, chat, sent)(room, e)]
    assert len(acks) == 1


async def test_a_download_cut_short_by_a_crash_leaves_no_temporary_file_after_the_restart(bot: BotUnderTest) -> None:
    inbox = bot.workspace_dir / "surfaces" / "matrix" / "alice" / "room" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    complete = inbox / "20261125T000000-aaaaaa-kept.txt"
    complete.write_bytes(b"a finished download")
    bot.process.kill()  # as after a crash mid-download: the temporary file is still there
    cut_short = inbox / ".partial-k9x2.tmp"
    cut_short.write_bytes(b"half a downl")

    bot.process.start()
    bot.process.wait_ready(WAIT)

    assert not cut_short.exists(), "the temporary file of the interrupted write is still there"
    assert complete.read_bytes() == b"a finished download"
