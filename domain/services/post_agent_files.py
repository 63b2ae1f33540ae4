"""Posts the files an agent wrote into the workspace, each as a reply to the message it answers."""

import logging
from collections.abc import Sequence

from domain.catalog import Catalog
from domain.model.ids import EventId, RoomId
from domain.model.sizes import human_size
from domain.services.file_notices import shown, size_limit
from ports.media import MediaError, MediaStore, MediaTooLarge
from ports.messenger import MessageSender
from ports.workspace import PathRefused, Workspace, WorkspaceError

log = logging.getLogger(__name__)


def file_txn_id(reply_to: EventId, number: int) -> str:
    # Derived from the user's event and the file's place in the answer: a retry after a crash posts
    # the same event again, never a second copy.
    return f"file-{reply_to}-{number}"


class PostAgentFiles:
    """Only regular files inside the workspace root are read; anything else gets a notice naming why."""

    def __init__(
        self, workspace: Workspace, media: MediaStore, sender: MessageSender, catalog: Catalog, max_bytes: int
    ) -> None:
        self._workspace = workspace
        self._media = media
        self._sender = sender
        self._catalog = catalog
        self._max_bytes = max_bytes

    async def execute(self, room_id: RoomId, reply_to: EventId, paths: Sequence[str]) -> None:
        for number, path in enumerate(paths, 1):
            txn_id = file_txn_id(reply_to, number)
            problem = await self._post(room_id, reply_to, path, txn_id)
            if problem is not None:
                await self._sender.send_reply(room_id, reply_to, problem, txn_id, notice=True)

    async def _post(self, room_id: RoomId, reply_to: EventId, path: str, txn_id: str) -> str | None:
        """None when posted; otherwise the notice that says why not."""
        limit = await size_limit(self._media, self._max_bytes)
        try:
            async with self._workspace.open_emitted(path) as file:
                if file.info.size > limit:
                    return self._catalog.text("agent_file_too_large", path=shown(path), limit=human_size(limit))
                media = await self._media.upload(file, room_id)
            await self._sender.send_file(room_id, reply_to, file.info, media, txn_id)
        except PathRefused as refused:
            log.warning("agent_file_refused", extra={"room_id": room_id, "why": refused.reason.value})
            reason = self._catalog.text(f"refusal_{refused.reason.value}")
            return self._catalog.text("agent_file_refused", path=shown(path), reason=reason)
        except MediaTooLarge:
            return self._catalog.text("agent_file_too_large", path=shown(path), limit=human_size(limit))
        except (MediaError, WorkspaceError) as error:
            log.warning("agent_file_failed", extra={"room_id": room_id, "error": str(error)})
            return self._catalog.text("agent_file_failed", path=shown(path))
        log.info("agent_file_posted", extra={"room_id": room_id, "workspace_path": path, "size": file.info.size})
        return None
