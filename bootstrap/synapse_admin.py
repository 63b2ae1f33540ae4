"""Synapse's shared-secret registration (`/_synapse/admin/v1/register`), stdlib only.

Used by the local Synapse, the container homeserver of the e2e tests and the fullstack stack's one-shot
registration step (which copies this file into the Synapse image, hence no third-party imports).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

REGISTER_PATH = "/_synapse/admin/v1/register"


class AdminRequestError(RuntimeError):
    """Synapse refused an admin request; `errcode` is the Matrix error code when it sent one."""

    def __init__(self, message: str, errcode: str | None) -> None:
        super().__init__(message)
        self.errcode = errcode

    @classmethod
    def from_http_error(cls, method: str, path: str, error: urllib.error.HTTPError) -> AdminRequestError:
        raw = error.read().decode(errors="replace")
        try:
            errcode = json.loads(raw).get("errcode")
        except (ValueError, AttributeError):
            errcode = None
        return cls(f"{method} {path} -> {error.code}: {raw}", errcode)


@dataclass(frozen=True)
class SharedSecretRegistrar:
    """Creates users on the homeserver at `url`, signing each request with the registration shared secret."""

    url: str
    server_name: str
    shared_secret: str

    def register(self, localpart: str, password: str, admin: bool = False) -> str:
        """The new user's id; an existing user counts as success (its password is not checked)."""
        nonce = str(self._request("GET", REGISTER_PATH)["nonce"])
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": self._mac(nonce, localpart, password, admin),
        }
        try:
            return str(self._request("POST", REGISTER_PATH, body)["user_id"])
        except AdminRequestError as error:
            if error.errcode == "M_USER_IN_USE":
                return f"@{localpart}:{self.server_name}"
            raise

    def _mac(self, nonce: str, user: str, password: str, admin: bool) -> str:
        # The HMAC layout Synapse expects: NUL-separated fields, then the admin flag.
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        for part in (nonce, user, password):
            mac.update(part.encode() + b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        return mac.hexdigest()

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url.rstrip('/')}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                result: dict[str, Any] = json.loads(response.read())
                return result
        except urllib.error.HTTPError as error:
            raise AdminRequestError.from_http_error(method, path, error) from None
