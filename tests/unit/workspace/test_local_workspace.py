"""LocalWorkspace on a real directory: atomic capped writes, and agent paths that never lead outside the root."""

import asyncio
import io
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from adapters.workspace.atomic_write import PARTIAL_PREFIX
from adapters.workspace.local import LocalWorkspace
from ports.workspace import FileTooLarge, PathRefused, Refusal, WorkspaceError

INBOX = "surfaces/matrix/alice-1/room-2/inbox"


async def chunks_of(data: bytes, size: int = 1000, pause: float = 0) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        if pause:
            await asyncio.sleep(pause)
        yield data[start : start + size]


def every_file(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if not path.is_dir()}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "workspace"


# -- writing ---------------------------------------------------------------------------------------


async def test_write_stores_the_bytes_under_the_relative_path(root: Path) -> None:
    data = os.urandom(3_000_000)
    size = await LocalWorkspace(root).write(f"{INBOX}/a.bin", chunks_of(data, 65_536), 10_000_000)
    assert size == len(data)
    assert (root / INBOX / "a.bin").read_bytes() == data
    assert every_file(root) == {f"{INBOX}/a.bin"}
    assert (root / INBOX / "a.bin").stat().st_mode & 0o777 == 0o644


async def test_a_write_past_the_cap_leaves_nothing_not_even_a_partial_file(root: Path) -> None:
    with pytest.raises(FileTooLarge):
        await LocalWorkspace(root).write(f"{INBOX}/big.bin", chunks_of(b"x" * 3_000_000, 65_536), 2_000_000)
    assert every_file(root) == set()


async def test_a_failing_source_leaves_nothing(root: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"first part"
        raise ConnectionError("peer went away")

    with pytest.raises(ConnectionError):
        await LocalWorkspace(root).write(f"{INBOX}/cut.bin", broken(), 1000)
    assert every_file(root) == set()


async def test_a_cancelled_write_leaves_nothing(root: Path) -> None:
    task = asyncio.create_task(
        LocalWorkspace(root).write(f"{INBOX}/slow.bin", chunks_of(b"x" * 100_000, pause=0.01), 10**6)
    )
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert every_file(root) == set()


async def test_the_file_appears_only_complete(root: Path) -> None:
    seen: list[bool] = []
    target = root / INBOX / "a.bin"

    async def watched() -> AsyncIterator[bytes]:
        for chunk in (b"a" * 10, b"b" * 10):
            seen.append(target.exists())
            yield chunk

    await LocalWorkspace(root).write(f"{INBOX}/a.bin", watched(), 100)
    assert seen == [False, False] and target.read_bytes() == b"a" * 10 + b"b" * 10
    assert not any(name.startswith(PARTIAL_PREFIX) for name in os.listdir(target.parent))


async def test_writing_again_replaces_the_file_whole(root: Path) -> None:
    workspace = LocalWorkspace(root)
    await workspace.write(f"{INBOX}/a.txt", chunks_of(b"first version, longer"), 100)
    await workspace.write(f"{INBOX}/a.txt", chunks_of(b"second"), 100)
    assert (root / INBOX / "a.txt").read_bytes() == b"second"


async def test_the_source_is_closed_when_the_write_gives_up(root: Path) -> None:
    closed: list[bool] = []

    async def source() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x" * 100
        finally:
            closed.append(True)

    with pytest.raises(FileTooLarge):
        await LocalWorkspace(root).write(f"{INBOX}/a.bin", source(), 250)
    assert closed == [True]


@pytest.mark.parametrize("path", ["/abs/a.txt", "../a.txt", "surfaces/../../a.txt", ""])
async def test_write_refuses_paths_that_are_not_plainly_relative(root: Path, path: str) -> None:
    with pytest.raises(PathRefused):
        await LocalWorkspace(root).write(path, chunks_of(b"x"), 10)


async def test_a_symlink_planted_in_the_tree_cannot_redirect_a_write(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "surfaces").mkdir(parents=True)
    (root / "surfaces" / "matrix").symlink_to(outside)
    with pytest.raises(WorkspaceError):
        await LocalWorkspace(root).write(f"{INBOX}/a.txt", chunks_of(b"x"), 10)
    assert list(outside.iterdir()) == []


async def test_an_unwritable_workspace_is_a_workspace_error(root: Path) -> None:
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_text("a file where the directory should be")
    with pytest.raises(WorkspaceError):
        await LocalWorkspace(root).write(f"{INBOX}/a.txt", chunks_of(b"x"), 10)


# -- agents' paths -----------------------------------------------------------------------------------


async def read(workspace: LocalWorkspace, path: str) -> bytes:
    async with workspace.open_emitted(path) as file:
        return b"".join([chunk async for chunk in file.chunks()])


@pytest.fixture
def populated(root: Path, tmp_path: Path) -> LocalWorkspace:
    (root / "out").mkdir(parents=True)
    (root / "out" / "notes.txt").write_text("inside")
    (tmp_path / "secret.txt").write_text("outside the workspace")
    return LocalWorkspace(root)


async def test_a_file_inside_is_opened_with_its_name_type_and_size(populated: LocalWorkspace) -> None:
    async with populated.open_emitted("out/notes.txt") as file:
        assert (file.info.filename, file.info.mime_type, file.info.size) == ("notes.txt", "text/plain", 6)
        assert file.info.workspace_path == "out/notes.txt" and not file.info.is_image
        first = b"".join([chunk async for chunk in file.chunks()])
        again = b"".join([chunk async for chunk in file.chunks()])  # a retried upload starts over
    assert first == again == b"inside"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/passwd", Refusal.ABSOLUTE),
        ("\\\\server\\share", Refusal.ABSOLUTE),
        ("C:\\secret.txt", Refusal.ABSOLUTE),
        ("../secret.txt", Refusal.CLIMBS),
        ("out/../../secret.txt", Refusal.CLIMBS),
        ("out\\..\\..\\secret.txt", Refusal.CLIMBS),
        ("", Refusal.INVALID),
        ("out/notes.txt\x00.png", Refusal.INVALID),
        ("out/none.txt", Refusal.MISSING),
        ("out", Refusal.NOT_REGULAR),
        ("out/notes.txt/x", Refusal.MISSING),
    ],
)
async def test_unsafe_or_unusable_paths_are_refused(populated: LocalWorkspace, path: str, reason: Refusal) -> None:
    with pytest.raises(PathRefused) as refused:
        await read(populated, path)
    assert refused.value.reason is reason


async def test_a_symlink_leaving_the_root_is_refused(populated: LocalWorkspace, root: Path, tmp_path: Path) -> None:
    (root / "out" / "link.txt").symlink_to(tmp_path / "secret.txt")
    (root / "out" / "dirlink").symlink_to(tmp_path)
    (root / "out" / "etc").symlink_to("/etc/passwd")
    for path in ("out/link.txt", "out/dirlink/secret.txt", "out/etc"):
        with pytest.raises(PathRefused) as refused:
            await read(populated, path)
        assert refused.value.reason is Refusal.ESCAPES


async def test_a_symlink_staying_inside_the_root_is_followed(populated: LocalWorkspace, root: Path) -> None:
    (root / "alias.txt").symlink_to(root / "out" / "notes.txt")
    assert await read(populated, "alias.txt") == b"inside"


async def test_a_symlink_loop_is_refused(populated: LocalWorkspace, root: Path) -> None:
    (root / "loop").symlink_to(root / "loop")
    with pytest.raises(PathRefused):
        await read(populated, "loop")


async def test_a_fifo_is_refused_without_blocking(populated: LocalWorkspace, root: Path) -> None:
    os.mkfifo(root / "out" / "pipe")
    with pytest.raises(PathRefused) as refused:
        async with asyncio.timeout(5):
            await read(populated, "out/pipe")
    assert refused.value.reason is Refusal.NOT_REGULAR


async def test_a_missing_root_refuses_rather_than_fails(tmp_path: Path) -> None:
    with pytest.raises(PathRefused) as refused:
        await read(LocalWorkspace(tmp_path / "nowhere"), "a.txt")
    assert refused.value.reason is Refusal.MISSING


async def test_an_image_has_its_dimensions_and_a_sniffed_type(populated: LocalWorkspace, root: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (37, 21), "red").save(buffer, "PNG")
    (root / "out" / "chart.dat").write_bytes(buffer.getvalue())  # the name says nothing: the content does
    async with populated.open_emitted("out/chart.dat") as file:
        assert (file.info.mime_type, file.info.width, file.info.height) == ("image/png", 37, 21)
        assert file.info.is_image


async def test_a_file_that_only_looks_like_an_image_is_a_plain_file(populated: LocalWorkspace, root: Path) -> None:
    (root / "out" / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    async with populated.open_emitted("out/fake.png") as file:
        assert file.info.mime_type == "image/png" and not file.info.is_image


async def test_a_hostile_name_in_the_agents_path_is_shown_sanitised(populated: LocalWorkspace, root: Path) -> None:
    (root / "out" / "a\u202egnp.exe").write_bytes(b"MZ")
    async with populated.open_emitted("out/a\u202egnp.exe") as file:
        assert file.info.filename == "agnp.exe" and file.info.workspace_path == "out/a\u202egnp.exe"


async def test_abandoned_partial_files_in_the_bots_area_are_removed_and_nothing_else(
    root: Path, tmp_path: Path
) -> None:
    inbox = root / "surfaces" / "matrix" / "alice" / "room" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / f"{PARTIAL_PREFIX}abc.tmp").write_bytes(b"half a download")  # left by a kill -9
    (inbox / "20261125-report.pdf").write_bytes(b"complete")
    (inbox / f"{PARTIAL_PREFIX}named-like-a-partial.pdf").write_bytes(b"not ours: no .tmp suffix")
    agent_area = root / "agents" / "gpt"
    agent_area.mkdir(parents=True)
    (agent_area / f"{PARTIAL_PREFIX}agent.tmp").write_bytes(b"the agent's own")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / f"{PARTIAL_PREFIX}x.tmp").write_bytes(b"outside the workspace")
    (inbox / "link").symlink_to(outside, target_is_directory=True)

    assert await LocalWorkspace(root).remove_abandoned_writes() == 1

    assert sorted(p.name for p in inbox.iterdir()) == sorted(
        ["20261125-report.pdf", f"{PARTIAL_PREFIX}named-like-a-partial.pdf", "link"]
    )
    assert (agent_area / f"{PARTIAL_PREFIX}agent.tmp").exists()
    assert (outside / f"{PARTIAL_PREFIX}x.tmp").exists()


async def test_a_workspace_without_the_bots_area_has_nothing_to_clean(root: Path) -> None:
    assert await LocalWorkspace(root).remove_abandoned_writes() == 0


async def test_with_several_replicas_a_partial_file_still_being_written_is_spared(root: Path) -> None:
    inbox = root / "surfaces" / "matrix" / "alice" / "room" / "inbox"
    inbox.mkdir(parents=True)
    live, dead = inbox / f"{PARTIAL_PREFIX}live.tmp", inbox / f"{PARTIAL_PREFIX}dead.tmp"
    live.write_bytes(b"another replica is writing this")
    dead.write_bytes(b"a replica died writing this")
    two_hours_ago = time.time() - 7200
    os.utime(dead, (two_hours_ago, two_hours_ago))
    assert await LocalWorkspace(root, abandoned_after_s=3600).remove_abandoned_writes() == 1
    assert live.exists() and not dead.exists()
