"""The bot's own cross-signing identity (master, self-signing and user-signing keys) and the signature on its device.

nio has no cross-signing. Clients that exclude insecure devices (MSC4153, Element's "exclude insecure
devices") share room keys only with devices their owner has cross-signed, so without this those people's
messages could never be decrypted by the bot. The private keys are generated once and kept in the crypto
directory (mode 0600); the public halves are uploaded, and the device is signed by the self-signing key.
"""

import base64
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from nio import AsyncClient

from adapters.matrix.crypto_store import write_private
from adapters.matrix.raw_api import RawApiError, call_ok, call_with_password

log = logging.getLogger(__name__)

KEYS_FILE: Final = "cross_signing.json"
USAGES: Final = ("master", "self_signing", "user_signing")


def unpadded_b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def canonical_json(value: dict[str, Any]) -> bytes:
    """The Matrix canonical JSON of an object, without its `signatures` and `unsigned` (what gets signed)."""
    stripped = {k: v for k, v in value.items() if k not in ("signatures", "unsigned")}
    return json.dumps(stripped, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @classmethod
    def from_seed(cls, seed_b64: str) -> "SigningKey":
        return cls(Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed_b64 + "=" * (-len(seed_b64) % 4))))

    @property
    def seed(self) -> str:
        return unpadded_b64(self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))

    @property
    def public(self) -> str:
        return unpadded_b64(self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    @property
    def key_id(self) -> str:
        return f"ed25519:{self.public}"

    def sign(self, value: dict[str, Any], user_id: str) -> dict[str, Any]:
        """`value` with this key's signature added to its `signatures`."""
        signature = unpadded_b64(self.private.sign(canonical_json(value)))
        signatures = {u: dict(s) for u, s in value.get("signatures", {}).items()}
        signatures.setdefault(user_id, {})[self.key_id] = signature
        return {**value, "signatures": signatures}


class CrossSigningKeys:
    """The three private keys, loaded from the crypto directory or generated there once."""

    def __init__(self, directory: Path) -> None:
        self._path = directory / KEYS_FILE

    def load_or_create(self) -> dict[str, SigningKey]:
        try:
            seeds = json.loads(self._path.read_text())
            return {usage: SigningKey.from_seed(seeds[usage]) for usage in USAGES}
        except FileNotFoundError:
            pass
        keys = {usage: SigningKey(Ed25519PrivateKey.generate()) for usage in USAGES}
        write_private(self._path, json.dumps({usage: key.seed for usage, key in keys.items()}))
        log.info("cross_signing_keys_created")
        return keys


def public_key(user_id: str, usage: str, key: SigningKey) -> dict[str, Any]:
    return {"user_id": user_id, "usage": [usage], "keys": {key.key_id: key.public}}


class CrossSigning:
    """Makes sure the homeserver has our cross-signing keys and our device's signature by the self-signing key."""

    def __init__(self, client: AsyncClient, keys: CrossSigningKeys, password: str | None) -> None:
        self._client = client
        self._keys = keys
        self._password = password

    async def ensure(self) -> bool:
        """True when the device is cross-signed; False (logged) when it cannot be, e.g. keys need a password."""
        keys = self._keys.load_or_create()
        user_id = self._client.user_id
        server = await self._own_keys()
        if (
            _public(server.get("master_keys", {}).get(user_id)) != keys["master"].public
            or _public(server.get("self_signing_keys", {}).get(user_id)) != keys["self_signing"].public
        ):
            try:
                await self._upload_identity(keys)
            except RawApiError as error:
                log.warning("cross_signing_unavailable", extra={"error": str(error)})
                return False
            server = await self._own_keys()
        device = server.get("device_keys", {}).get(user_id, {}).get(self._client.device_id)
        if not isinstance(device, dict):
            log.warning("cross_signing_deferred", extra={"reason": "the device keys are not on the server yet"})
            return False
        if keys["self_signing"].key_id not in device.get("signatures", {}).get(user_id, {}):
            try:
                await self._sign_device(keys["self_signing"], device)
            except RawApiError as error:
                log.warning("cross_signing_unavailable", extra={"error": str(error)})
                return False
        log.info("cross_signing_ready", extra={"master_key": keys["master"].public})
        return True

    async def _own_keys(self) -> dict[str, Any]:
        body: dict[str, Any] = {"device_keys": {self._client.user_id: []}}
        return await call_ok(self._client, "query own keys", "POST", "/_matrix/client/v3/keys/query", body)

    async def _upload_identity(self, keys: dict[str, SigningKey]) -> None:
        user_id = self._client.user_id
        master = keys["master"]
        body = {
            "master_key": public_key(user_id, "master", master),
            "self_signing_key": master.sign(public_key(user_id, "self_signing", keys["self_signing"]), user_id),
            "user_signing_key": master.sign(public_key(user_id, "user_signing", keys["user_signing"]), user_id),
        }
        await call_with_password(
            self._client,
            "upload cross-signing keys",
            "POST",
            "/_matrix/client/v3/keys/device_signing/upload",
            body,
            self._password,
        )
        log.info("cross_signing_keys_uploaded", extra={"master_key": master.public})

    async def _sign_device(self, self_signing: SigningKey, device: dict[str, Any]) -> None:
        user_id, device_id = self._client.user_id, self._client.device_id
        unsigned = {k: v for k, v in device.items() if k not in ("signatures", "unsigned")}
        signed = self_signing.sign(unsigned, user_id)
        answer = await call_ok(
            self._client,
            "upload device signature",
            "POST",
            "/_matrix/client/v3/keys/signatures/upload",
            {user_id: {device_id: signed}},
        )
        failures = answer.get("failures") or {}
        if failures:
            raise RawApiError("upload device signature", 400, {"error": json.dumps(failures)})
        log.info("device_cross_signed", extra={"device_id": device_id})


def _public(key: Any) -> str | None:
    """The single ed25519 public key of a cross-signing key object from `/keys/query`."""
    if not isinstance(key, dict) or not isinstance(key.get("keys"), dict):
        return None
    values = [v for k, v in key["keys"].items() if isinstance(k, str) and k.startswith("ed25519:")]
    return values[0] if len(values) == 1 and isinstance(values[0], str) else None
