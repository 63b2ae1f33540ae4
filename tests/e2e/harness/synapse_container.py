"""Synapse in a container (the fullstack stack's image) through testcontainers, with LocalSynapse's API."""

from __future__ import annotations

import secrets
import time
import urllib.error
import urllib.request

from tests.e2e.harness.images import testcontainers_environment

testcontainers_environment()

from testcontainers.core.container import DockerContainer  # noqa: E402 - after the environment above
from testcontainers.core.wait_strategies import HttpWaitStrategy  # noqa: E402

from bootstrap.homeserver import HomeserverError, free_port  # noqa: E402
from bootstrap.synapse_admin import SharedSecretRegistrar  # noqa: E402

SYNAPSE_IMAGE = "surfaces/synapse:local"
CONTAINER_PORT = 8008


class ContainerSynapse:
    """`.url`, `.register`, `.stop`, `.start`, `.server_name` as LocalSynapse; data survives stop/start.

    The host port is fixed at creation and published on 127.0.0.1 only, so a restart keeps the URL the bots
    were given. `stop()` stops the container (its /data volume stays); `remove()` deletes both.
    """

    def __init__(
        self,
        image: str = SYNAPSE_IMAGE,
        server_name: str = "localhost",
        max_upload_mb: int = 50,
        encrypt_new_rooms: bool = False,
    ) -> None:
        self.server_name = server_name
        self.port = free_port()
        self._secret = secrets.token_urlsafe(32)
        self._container = (
            DockerContainer(image)
            .with_env("SYNAPSE_SERVER_NAME", server_name)
            .with_env("SYNAPSE_REGISTRATION_SHARED_SECRET", self._secret)
            .with_env("SYNAPSE_MAX_UPLOAD_MB", str(max_upload_mb))
            .with_env("SYNAPSE_PUBLIC_BASEURL", f"{self.url}/")
            .with_env("SYNAPSE_ENCRYPT_NEW_ROOMS", "1" if encrypt_new_rooms else "0")
            .waiting_for(HttpWaitStrategy(CONTAINER_PORT, "/health").with_startup_timeout(90))
        )
        # Published on loopback only (docker-py's (ip, port) form; with_bind_ports binds all interfaces).
        self._container.ports[f"{CONTAINER_PORT}/tcp"] = ("127.0.0.1", self.port)  # type: ignore[assignment]
        self._created = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        if not self._created:
            self._container.start()
            self._created = True
            return
        if self.is_running():
            return
        self._container.get_wrapped_container().start()
        self._wait_healthy(timeout)

    def stop(self, timeout: float = 15) -> None:
        if self._created and self.is_running():
            self._container.get_wrapped_container().stop(timeout=int(timeout))

    def remove(self) -> None:
        if self._created:
            self._container.stop(force=True, delete_volume=True)
            self._created = False

    def is_running(self) -> bool:
        if not self._created:
            return False
        wrapped = self._container.get_wrapped_container()
        wrapped.reload()
        return bool(wrapped.status == "running")

    def register(self, localpart: str, password: str, admin: bool = False) -> str:
        return SharedSecretRegistrar(self.url, self.server_name, self._secret).register(localpart, password, admin)

    def log_tail(self, lines: int = 40) -> str:
        if not self._created:
            return "(container not created)"
        raw = self._container.get_wrapped_container().logs(tail=lines)
        return bytes(raw).decode(errors="replace")

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise HomeserverError(f"Synapse container not healthy after {timeout} s:\n{self.log_tail()}")
