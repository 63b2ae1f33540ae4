"""The key traffic nio's `sync_forever` would do and our own sync loop must: uploads, queries, claims, to-device.

Run after every sync the loop has recorded. Each step is cheap when there is nothing to do, and a failure is
only logged: the next sync runs it again, and a send that needs fresh keys queries them itself.
"""

import asyncio
import logging

import aiohttp
from nio import (
    AsyncClient,
    ForwardedRoomKeyEvent,
    KeysClaimResponse,
    KeysUploadResponse,
    RoomKeyEvent,
    SyncResponse,
)

from adapters.matrix.errors import checked
from adapters.matrix.room_encryption import RoomEncryption
from ports.topology import ChatNetworkError

log = logging.getLogger(__name__)


class KeyArrivals:
    """Wakes everyone waiting for a room key whenever new room keys have arrived."""

    def __init__(self) -> None:
        self._arrived = asyncio.Event()

    def notify(self) -> None:
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()

    async def wait(self, seconds: float) -> bool:
        """True when keys arrived within `seconds`."""
        arrived = self._arrived
        try:
            await asyncio.wait_for(arrived.wait(), seconds)
        except TimeoutError:
            return False
        return True


class KeyMaintenance:
    """One-time keys topped up below half, device lists queried, Olm sessions claimed, to-device messages sent."""

    def __init__(self, client: AsyncClient, encryption: RoomEncryption, arrivals: KeyArrivals) -> None:
        self._client = client
        self._encryption = encryption
        self._arrivals = arrivals

    async def after_sync(self, response: SyncResponse) -> None:
        if self._client.olm is None:
            return
        # nio only takes the server's count when it is non-zero, so an exhausted count (0) would never be
        # refilled and new devices of people could no longer open an Olm session with the bot. A count the
        # response leaves out is unknown, not zero: uploading then would push keys people already claimed
        # out of the account, and their first messages could not be read.
        count = response.device_key_count.signed_curve25519
        if count is not None:
            self._client.olm.uploaded_key_count = count
        if any(isinstance(e, RoomKeyEvent | ForwardedRoomKeyEvent) for e in response.to_device_events):
            self._arrivals.notify()
        await self.run()

    async def run(self) -> None:
        try:
            if self._should_upload():
                checked("upload keys", await self._client.keys_upload(), KeysUploadResponse)
                log.info("one_time_keys_uploaded", extra={"count": self._client.olm.uploaded_key_count})
            await self._encryption.query_keys()
            if self._client.should_claim_keys:
                users = self._client.get_users_for_key_claiming()
                checked("claim keys", await self._client.keys_claim(users), KeysClaimResponse)
            await self._client.send_to_device_messages()
        except (ChatNetworkError, aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("key_maintenance_failed", extra={"error": str(error) or type(error).__name__})

    def _should_upload(self) -> bool:
        olm = self._client.olm
        if olm is None:
            return False
        if not olm.account.shared:
            return True
        count = olm.uploaded_key_count
        return count is not None and count < olm.account.max_one_time_keys // 2
