"""One-time keys: refilled when the server's count falls below half, never on a count the sync left out."""

from typing import Any

from nio import AsyncClient, KeysUploadResponse, SyncResponse

from adapters.matrix.key_maintenance import KeyArrivals, KeyMaintenance
from adapters.matrix.room_encryption import RoomEncryption
from tests.unit.matrix.test_decryption import bot_client


class CountingUploads:
    def __init__(self, client: AsyncClient) -> None:
        self.uploads = 0
        self._client = client

    async def __call__(self) -> KeysUploadResponse:
        self.uploads += 1
        self._client.olm.account.shared = True
        return KeysUploadResponse(curve25519_count=0, signed_curve25519_count=50)


def sync_with(counts: dict[str, int] | None) -> SyncResponse:
    raw: dict[str, Any] = {"next_batch": "s2", "rooms": {"join": {}, "invite": {}, "leave": {}}}
    if counts is not None:
        raw["device_one_time_keys_count"] = counts
    response = SyncResponse.from_dict(raw)
    assert isinstance(response, SyncResponse)
    return response


async def maintained(count: int) -> tuple[AsyncClient, KeyMaintenance, CountingUploads]:
    client = bot_client()
    client.olm.account.shared = True
    client.olm.uploaded_key_count = count
    uploads = CountingUploads(client)
    client.keys_upload = uploads  # type: ignore[method-assign]

    async def nothing_to_send() -> None:
        return None

    client.send_to_device_messages = nothing_to_send  # type: ignore[method-assign]
    return client, KeyMaintenance(client, RoomEncryption(client), KeyArrivals()), uploads


async def test_an_exhausted_count_of_zero_is_refilled() -> None:
    _, keys, uploads = await maintained(40)
    await keys.after_sync(sync_with({"signed_curve25519": 0}))
    assert uploads.uploads == 1


async def test_a_count_at_half_or_more_needs_no_upload() -> None:
    _, keys, uploads = await maintained(40)
    await keys.after_sync(sync_with({"signed_curve25519": 25}))
    assert uploads.uploads == 0


async def test_a_count_the_sync_leaves_out_keeps_the_last_known_one() -> None:
    client, keys, uploads = await maintained(40)
    await keys.after_sync(sync_with(None))
    assert uploads.uploads == 0 and client.olm.uploaded_key_count == 40
