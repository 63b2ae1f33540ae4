"""An encrypting Matrix user nobody on this project wrote: matrix-js-sdk with its Rust crypto in Node.

`tests/e2e/jsclient/driver.mjs` holds one logged-in, syncing user and answers one JSON line per request;
`JsUser` is its asyncio face. Events come back decrypted as dicts: `type`, `content`, `sender`, `event_id`,
`room_id`, plus `encrypted` (it arrived as `m.room.encrypted`) and `decryption_failed`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
from collections import deque
from typing import Any

from tests.e2e.harness.child_process import REPO_ROOT

JSCLIENT_DIR = REPO_ROOT / "tests" / "e2e" / "jsclient"
DRIVER = JSCLIENT_DIR / "driver.mjs"
Event = dict[str, Any]
_STDERR_LINES = 200
_SLACK = 15.0  # seconds added to a command's own timeout before the wrapper gives up on the driver


def jsclient_problem() -> str | None:
    """Why the js client cannot run here, or None (scripts/prepare-machine.sh installs what is missing)."""
    if shutil.which("node") is None:
        return "node is not installed (scripts/prepare-machine.sh installs it)"
    if not (JSCLIENT_DIR / "node_modules" / "matrix-js-sdk").is_dir():
        return f"npm ci has not been run in {JSCLIENT_DIR} (scripts/prepare-machine.sh runs it)"
    return None


class JsUser:
    """One user logged in through matrix-js-sdk; every call fails with an AssertionError carrying the reason
    and the end of the driver's stderr."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self._proc = proc
        self.name = name
        self.user_id = ""
        self.device_id = ""
        self.access_token = ""
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self._lock = asyncio.Lock()
        self._readers = [
            asyncio.create_task(self._read_stdout()),
            asyncio.create_task(self._read_stderr()),
        ]

    @classmethod
    async def start(cls, name: str = "js-user") -> JsUser:
        problem = jsclient_problem()
        if problem is not None:
            raise AssertionError(f"the js client cannot run: {problem}")
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(DRIVER),
            cwd=JSCLIENT_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,  # a downloaded file comes back base64 on one line
        )
        return cls(proc, name)

    @classmethod
    async def login(cls, homeserver_url: str, user_id: str, password: str) -> JsUser:
        user = await cls.start(user_id)
        try:
            session = await user.call(
                "login", homeserver=homeserver_url, user_id=user_id, password=password, timeout=60
            )
        except BaseException:
            await user.close()
            raise
        user.user_id = session["user_id"]
        user.device_id = session["device_id"]
        user.access_token = session["access_token"]
        return user

    # -- the protocol ----------------------------------------------------------------------------------

    async def call(self, cmd: str, timeout: float = 30, **args: Any) -> Any:
        """Sends one request; `timeout` goes to the driver as well (commands that wait use it)."""
        if self._proc.returncode is not None:
            raise AssertionError(f"js client {self.name} exited ({self._proc.returncode}):\n{self.stderr_tail()}")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        line = json.dumps({"id": request_id, "cmd": cmd, "args": {**args, "timeout": timeout}}) + "\n"
        assert self._proc.stdin is not None
        async with self._lock:
            self._proc.stdin.write(line.encode())
            await self._proc.stdin.drain()
        try:
            async with asyncio.timeout(timeout + _SLACK):
                response = await future
        except TimeoutError:
            raise AssertionError(f"js client {self.name}: {cmd} got no answer:\n{self.stderr_tail()}") from None
        finally:
            self._pending.pop(request_id, None)
        if not response.get("ok"):
            raise AssertionError(f"js client {self.name}: {cmd} failed: {response.get('error')}")
        return response.get("result")

    def stderr_tail(self, lines: int = 40) -> str:
        return "\n".join(list(self._stderr)[-lines:])

    async def _read_stdout(self) -> None:
        assert self._proc.stdout is not None
        while line := await self._proc.stdout.readline():
            try:
                response = json.loads(line)
            except json.JSONDecodeError:
                self._stderr.append(f"(stdout, not JSON) {line.decode(errors='replace').rstrip()}")
                continue
            future = self._pending.get(response.get("id"))
            if future is not None and not future.done():
                future.set_result(response)
        for future in self._pending.values():
            if not future.done():
                future.set_result({"ok": False, "error": f"driver exited:\n{self.stderr_tail()}"})

    async def _read_stderr(self) -> None:
        assert self._proc.stderr is not None
        while line := await self._proc.stderr.readline():
            self._stderr.append(line.decode(errors="replace").rstrip())

    async def close(self) -> None:
        if self._proc.returncode is None:
            with contextlib.suppress(AssertionError, ConnectionError):
                await self.call("shutdown", timeout=5)
            try:
                async with asyncio.timeout(10):
                    await self._proc.wait()
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)

    # -- rooms -----------------------------------------------------------------------------------------

    async def create_encrypted_dm(self, invitee: str) -> str:
        return str((await self.call("create_encrypted_dm", invite=invitee))["room_id"])

    async def join(self, room_id: str) -> None:
        await self.call("join", room_id=room_id)

    async def wait_for_invite(self, timeout: float = 30) -> str:
        return str((await self.call("wait_invite", timeout=timeout))["room_id"])

    async def room_encrypted(self, room_id: str) -> bool:
        return bool((await self.call("room_encrypted", room_id=room_id))["encrypted"])

    # -- sending ---------------------------------------------------------------------------------------

    async def send_text(
        self,
        room_id: str,
        body: str,
        reply_to: str | None = None,
        thread_root: str | None = None,
        require_encrypted: bool = True,
    ) -> str:
        """The event id; refuses (by default) to send into a room the client does not know as encrypted."""
        result = await self.call(
            "send_text",
            room_id=room_id,
            body=body,
            reply_to=reply_to,
            thread_root=thread_root,
            require_encrypted=require_encrypted,
        )
        return str(result["event_id"])

    async def send_file(
        self,
        room_id: str,
        data: bytes,
        name: str,
        mimetype: str = "application/octet-stream",
        msgtype: str = "m.file",
        caption: str | None = None,
        corrupt_hash: bool = False,
    ) -> str:
        """An encrypted attachment: `content.file` (key, iv, hashes, url of the ciphertext), no `url`.
        `corrupt_hash` announces a SHA-256 that is not the ciphertext's."""
        result = await self.call(
            "send_file",
            room_id=room_id,
            data_b64=base64.b64encode(data).decode(),
            name=name,
            mimetype=mimetype,
            msgtype=msgtype,
            caption=caption,
            corrupt_hash=corrupt_hash,
            timeout=60,
        )
        return str(result["event_id"])

    async def download_file(self, file: dict[str, Any]) -> bytes:
        """Downloads and decrypts an event's `content.file`; the hash is checked (a mismatch fails)."""
        result = await self.call("download_file", file=file, timeout=60)
        return base64.b64decode(result["data_b64"])

    # -- receiving -------------------------------------------------------------------------------------

    async def mark(self) -> int:
        """A position in the events seen: pass it as `after=` to match only events seen later."""
        return int((await self.call("mark"))["position"])

    async def wait_for(
        self,
        room_id: str | None = None,
        sender: str | None = None,
        reply_to: str | None = None,
        event_type: str | None = None,
        event_id: str | None = None,
        msgtype: str | None = None,
        after: int = 0,
        timeout: float = 30,
        allow_undecryptable: bool = False,
    ) -> Event:
        """The first event (from `after` on) matching every filter given, once decrypted."""
        return dict(
            await self.call(
                "wait_event",
                room_id=room_id,
                event_id=event_id,
                sender=sender,
                reply_to=reply_to,
                type=event_type,
                msgtype=msgtype,
                after=after,
                timeout=timeout,
                allow_undecryptable=allow_undecryptable,
            )
        )

    async def events(self, room_id: str | None = None, after: int = 0) -> list[Event]:
        """Every event seen (from `after` on), decrypted where the keys are there."""
        return list((await self.call("events", room_id=room_id, after=after))["events"])

    # -- trust -----------------------------------------------------------------------------------------

    async def bootstrap_cross_signing(self) -> None:
        """This user's cross-signing keys, made and uploaded, this device signed (as Element does at login)."""
        assert (await self.call("bootstrap_cross_signing", timeout=60))["ready"]

    async def exclude_insecure_devices(self) -> None:
        """Element's "exclude insecure devices" (MSC4153): keys only for cross-signed devices, and only
        messages from cross-signed devices decrypted. Needs this user's own cross-signing (bootstrapped here)."""
        await self.bootstrap_cross_signing()
        await self.call("set_isolation", mode="only_signed")

    async def discard_session(self, room_id: str) -> None:
        """The next message in the room opens a new Megolm session: its key is sent afresh (to-device)."""
        await self.call("discard_session", room_id=room_id)

    async def blacklist_unverified_devices(self, value: bool = True) -> None:
        await self.call("set_blacklist_unverified", value=value)

    async def devices_of(self, user_id: str) -> dict[str, Any]:
        """`{"devices": [{device_id, signed_by_owner, cross_signing_verified, locally_verified}], ...}`."""
        return dict(await self.call("devices", user_id=user_id))
