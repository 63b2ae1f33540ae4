"""A local Synapse homeserver run as a child process, for `surfaces dev` and the e2e tests.

Everything lives in `base_dir`, so a second `start()` on the same directory keeps users and rooms.
Start time until `/health` answers, measured on the 2-CPU dev machine (Synapse 1.163.2, SQLite):
first start on an empty directory (schema and signing key created) 3.3-4.7 s, restart on an existing
directory 3.1-3.5 s. About 3 s of that is Python importing Synapse, so there is little left to tune.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from bootstrap.synapse_admin import SharedSecretRegistrar

# Tests fire bursts of logins, joins and messages; Synapse's defaults would throttle them with 429s.
_UNLIMITED = {"per_second": 100_000, "burst_count": 1_000_000}
_RATE_LIMITS: dict[str, Any] = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
    "rc_admin_redaction": _UNLIMITED,
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
    "rc_third_party_invite": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_key_requests": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_reports": _UNLIMITED,
    "rc_user_directory": _UNLIMITED,
    "rc_profile": _UNLIMITED,
    "rc_federation": {
        "window_size": 1000,
        "sleep_limit": 100_000,
        "sleep_delay": 0,
        "reject_limit": 100_000,
        "concurrent": 1000,
    },
}
_LOG_TAIL_LINES = 40
_PR_SET_PDEATHSIG = 1


class HomeserverError(RuntimeError):
    """The local Synapse failed to start, died, or refused an admin request."""


@dataclass(frozen=True, kw_only=True)
class PostgresDatabase:
    """Where Synapse's PostgreSQL database is; it must be created with the C collation (Synapse checks)."""

    host: str
    database: str
    user: str
    password: str = ""
    port: int = 5432
    # Synapse's default pool is 5-10 connections; a test stack on two cores needs no more.
    cp_max: int = 10

    def args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"host": self.host, "port": self.port, "database": self.database, "user": self.user}
        if self.password:
            args["password"] = self.password
        return {**args, "cp_min": min(5, self.cp_max), "cp_max": self.cp_max}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (another process may still grab it before we bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalSynapse:
    """A Synapse child process listening on 127.0.0.1 only, with rate limits off and no federation.

    The Synapse image of deploy/synapse writes its configuration with this class too (`write_config`,
    binding 0.0.0.0, logging to the console), so the process and the container homeservers match.
    """

    base_dir: Path
    port: int = 8008
    server_name: str = "localhost"
    max_upload_mb: int = 50
    bind_address: str = "127.0.0.1"
    public_baseurl: str | None = None
    # Given: used instead of the generated one (a container gets it from its environment).
    registration_shared_secret: str | None = None
    log_to_file: bool = True
    # Given: Synapse's Prometheus metrics on 127.0.0.1 at this port (the benchmark's --homeserver-metrics).
    metrics_port: int | None = None
    # True: Synapse encrypts every new room (`encryption_enabled_by_default_for_room_type: all`), the
    # deployment setting the encryption tests run under.
    encrypt_new_rooms: bool = False
    # Application-service registrations to load (`surfaces registration` writes one); read at every start.
    app_service_config_files: tuple[Path, ...] = ()
    # Given: Synapse keeps its data in this PostgreSQL database instead of SQLite under `base_dir`.
    postgres: PostgresDatabase | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _console: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 60) -> None:
        if self.is_running():
            return
        if _port_in_use(self.port):
            # Without this check /health of whatever already listens there would look like success.
            raise HomeserverError(f"port {self.port} on 127.0.0.1 is already in use")
        self.base_dir.mkdir(parents=True, exist_ok=True)
        config_path = self.write_config()
        self._console = (self.base_dir / "console.log").open("wb")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config_path)],
            cwd=self.base_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._console,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent_hook(),  # safe with threads: it only calls prctl
        )
        atexit.register(self.stop)
        self._wait_healthy(timeout)

    def stop(self, timeout: float = 15) -> None:
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._console is not None:
            self._console.close()
            self._console = None

    def register(self, localpart: str, password: str, admin: bool = False) -> str:
        """Create a user through the shared-secret admin API; an existing user counts as success.

        For an existing user the password is not checked: a wrong one surfaces at login.
        """
        secret = self._secrets()["registration_shared_secret"]
        return SharedSecretRegistrar(self.url, self.server_name, secret).register(localpart, password, admin)

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines of Synapse's console output (start-up errors) and of its log file."""
        parts = []
        for name in ("console.log", "homeserver.log"):
            path = self.base_dir / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path} ---\n" + "\n".join(tail))
        return "\n".join(parts) or "(no log written)"

    # -- internals -------------------------------------------------------------------------------------

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self.stop()
                raise HomeserverError(f"Synapse exited with code {code}:\n{self.log_tail()}")
            if _health_ok(self.url):
                return
            time.sleep(0.1)
        self.stop()
        raise HomeserverError(f"Synapse not healthy after {timeout} s:\n{self.log_tail()}")

    def write_config(self) -> Path:
        """homeserver.yaml and its log config in `base_dir`; rewritten on every start, secrets kept."""
        log_config = self.base_dir / "log.config.yaml"
        log_file = self.base_dir / "homeserver.log" if self.log_to_file else None
        log_config.write_text(yaml.safe_dump(_log_config(log_file)))
        config_path = self.base_dir / "homeserver.yaml"
        config_path.write_text(yaml.safe_dump(self._config(log_config), sort_keys=False))
        return config_path

    def _config(self, log_config: Path) -> dict[str, Any]:
        base = self.base_dir.resolve()
        return {
            "server_name": self.server_name,
            "public_baseurl": self.public_baseurl or f"{self.url}/",
            "pid_file": str(base / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": [self.bind_address],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                },
                *self._metrics_listener(),
            ],
            "database": self._database(base),
            "log_config": str(log_config.resolve()),
            "media_store_path": str(base / "media_store"),
            "max_upload_size": f"{self.max_upload_mb}M",
            "signing_key_path": str(base / f"{self.server_name}.signing.key"),
            **self._secrets(),
            "enable_registration": False,
            # Default 12 rounds cost ~0.25 s per login and per registration; these are test accounts.
            "bcrypt_rounds": 4,
            "report_stats": False,
            "enable_metrics": self.metrics_port is not None,
            "url_preview_enabled": False,
            "presence": {"enabled": False},
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            # Nothing may leave this machine: inviting a remote user fails at once instead of hanging.
            "federation_domain_whitelist": [],
            **_RATE_LIMITS,
            **({"encryption_enabled_by_default_for_room_type": "all"} if self.encrypt_new_rooms else {}),
            **self._app_services(),
        }

    def _database(self, base: Path) -> dict[str, Any]:
        if self.postgres is None:
            return {"name": "sqlite3", "args": {"database": str(base / "homeserver.db")}}
        return {"name": "psycopg2", "args": self.postgres.args()}

    def _app_services(self) -> dict[str, Any]:
        if not self.app_service_config_files:
            return {}
        return {"app_service_config_files": [str(path.resolve()) for path in self.app_service_config_files]}

    def _metrics_listener(self) -> list[dict[str, Any]]:
        if self.metrics_port is None:
            return []
        return [{"port": self.metrics_port, "bind_addresses": ["127.0.0.1"], "type": "metrics", "tls": False}]

    @property
    def metrics_url(self) -> str | None:
        return f"http://127.0.0.1:{self.metrics_port}/_synapse/metrics" if self.metrics_port else None

    def _secrets(self) -> dict[str, str]:
        path = self.base_dir / "secrets.json"
        if not path.exists():
            fresh = {
                key: secrets.token_urlsafe(32)
                for key in ("registration_shared_secret", "macaroon_secret_key", "form_secret")
            }
            path.write_text(json.dumps(fresh))
            path.chmod(0o600)
        loaded: dict[str, str] = json.loads(path.read_text())
        if self.registration_shared_secret:
            loaded["registration_shared_secret"] = self.registration_shared_secret
        return loaded


def _log_config(log_file: Path | None) -> dict[str, Any]:
    """Warnings and errors to `log_file`, or to stderr when there is none (a container's log)."""
    handler: dict[str, Any] = {"class": "logging.StreamHandler", "formatter": "plain"}
    if log_file is not None:
        handler = {**handler, "class": "logging.FileHandler", "filename": str(log_file.resolve()), "encoding": "utf8"}
    return {
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
        "handlers": {"main": handler},
        "root": {"level": "WARNING", "handlers": ["main"]},
        "disable_existing_loggers": False,
    }


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def die_with_parent_hook() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when its parent dies, even by SIGKILL.

    Linux ties PDEATHSIG to the *thread* that forked, so it is only set from the main thread (a worker
    thread ending would otherwise kill Synapse); elsewhere, and off Linux, atexit is the only guard.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded in the parent: the hook then only calls it
    prctl = libc.prctl
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return hook
