""" "Typing…" while an agent thinks, shown only when the answer is not there at once."""

import asyncio
from types import TracebackType

from domain.model.ids import RoomId
from ports.messenger import MessageSender


class TypingNotice:
    """Shows typing once the agent has taken `after_s`, and clears it afterwards only if it was shown.

    A quick answer needs no notice: it would flash for a few milliseconds, and each change is a write
    to the homeserver that also wakes every member's sync. A slow answer gets one "on" and one "off".
    """

    def __init__(self, sender: MessageSender, room_id: RoomId, after_s: float) -> None:
        self._sender = sender
        self._room_id = room_id
        self._after_s = after_s
        self._shown = False
        self._pending: asyncio.Task[None] | None = None

    async def __aenter__(self) -> None:
        if self._after_s <= 0:
            await self._show()
        else:
            self._pending = asyncio.create_task(self._show_later(), name=f"typing:{self._room_id}")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            if self._shown:
                await asyncio.shield(pending)  # "on" is under way: let it land before "off"
            else:
                pending.cancel()
                # gather, not a bare await: our own cancellation must still propagate, only the task's is expected.
                await asyncio.gather(pending, return_exceptions=True)
        if self._shown:
            await self._sender.set_typing(self._room_id, False)

    async def _show_later(self) -> None:
        await asyncio.sleep(self._after_s)
        await self._show()

    async def _show(self) -> None:
        self._shown = True
        await self._sender.set_typing(self._room_id, True)
