"""The bot in appservice mode: surfaces_as (one replica) and surfaces_as2 (two replicas behind a round-robin
forwarder), each with a registration of its own loaded by the one Synapse and a database of its own on one
throwaway PostgreSQL cluster (tests/servers/postgres.py). Every replica is its own process, started as operators
start it (`uv run surfaces run`, SURFACES_MODE=appservice), with its own SURFACES_HTTP_PORT and
SURFACES_APPSERVICE_PORT."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.matrix.appservice.registration import Registration
from bench.bots import BenchBot
from bench.forwarder import RoundRobinForwarder
from bench.rooms import PASSWORD
from bootstrap.homeserver import free_port
from tests.servers.postgres import PostgresServer, postgres_cluster

AS_KINDS = ("surfaces_as", "surfaces_as2")
REPLICAS = {"surfaces_as": 1, "surfaces_as2": 2}


@dataclass
class AppserviceKind:
    """What one appservice kind needs before Synapse starts (its registration) and after (its database)."""

    kind: str
    registration: Registration
    replica_ports: list[int]
    forwarder: RoundRobinForwarder | None
    database_url: str = ""

    @property
    def user_id(self) -> str:
        return f"@{self.registration.sender_localpart}:{self.registration.server_name}"

    def replica_id(self, number: int) -> str:
        # Named, not host:pid, so the failover phase can tell from the lease table whose people were whose.
        return f"{self.kind}-{number}"


def plan(kind: str, server_name: str) -> AppserviceKind:
    """Ports, tokens and the registration; with two replicas the homeserver is given the forwarder's URL."""
    ports = [free_port() for _ in range(REPLICAS[kind])]
    forwarder = RoundRobinForwarder([f"http://127.0.0.1:{port}" for port in ports]) if len(ports) > 1 else None
    url = forwarder.url if forwarder is not None else f"http://127.0.0.1:{ports[0]}"
    localpart = f"bot-{kind.replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    # Registration ids must differ between the files one Synapse loads.
    registration = dataclasses.replace(Registration.generate(url, localpart, server_name), id=kind)
    return AppserviceKind(kind, registration, ports, forwarder)


def write_registration(kind: AppserviceKind, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{kind.kind}-registration.yaml"
    path.write_text(yaml.safe_dump(kind.registration.as_dict(), sort_keys=False))
    return path


async def register_sender(homeserver_url: str, kind: AppserviceKind) -> None:
    """The sender account, registered by the appservice itself (`m.login.application_service`); one already
    there (M_USER_IN_USE) is fine."""
    body = {"type": "m.login.application_service", "username": kind.registration.sender_localpart}
    headers = {"Authorization": f"Bearer {kind.registration.as_token}"}
    url = f"{homeserver_url}/_matrix/client/v3/register"
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as response:
        data = await response.json()
        if response.status != 200 and data.get("errcode") != "M_USER_IN_USE":
            raise RuntimeError(f"registering {kind.user_id}: {response.status} {data}")


@dataclass
class Postgres:
    """One throwaway cluster for the run; a database per appservice kind."""

    _cluster: Iterator[PostgresServer] = field(default_factory=postgres_cluster)
    server: PostgresServer | None = None

    def start(self) -> None:
        self.server = next(self._cluster)

    def stop(self) -> None:
        close = getattr(self._cluster, "close", None)
        if close is not None:
            close()  # the generator's `finally` stops the cluster and removes its directory

    async def database(self, name: str) -> str:
        assert self.server is not None, "cluster not started"
        admin = create_async_engine(self.server.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await admin.dispose()
        return self.server.url.rsplit("/", 1)[0] + f"/{name}"


@dataclass
class ReplicaGroup:
    """The replicas of one appservice kind, seen by the phases as one bot: CPU is the sum over the replicas
    (the whole deployment's cost per message), peak RSS the largest replica's (the per-replica limit)."""

    kind: str
    user_id: str
    replicas: list[BenchBot]
    forwarder: RoundRobinForwarder | None

    @property
    def peak_rss_mb(self) -> float:
        return max(replica.peak_rss_mb for replica in self.replicas)

    @property
    def pids(self) -> list[int]:
        return [replica.pid for replica in self.replicas if replica.is_running()]

    async def start(self) -> float:
        """Replicas one after the other (the first runs the migrations); seconds to ready of the slowest."""
        if self.forwarder is not None and self.forwarder._runner is None:
            await self.forwarder.start()
        return max([await replica.start() for replica in self.replicas])

    async def stop(self) -> None:
        for replica in self.replicas:
            if replica.is_running():
                await replica.stop()

    async def close(self) -> None:
        await self.stop()
        if self.forwarder is not None:
            await self.forwarder.stop()

    def is_running(self) -> bool:
        return any(replica.is_running() for replica in self.replicas)

    def sample(self) -> None:
        for replica in self.replicas:
            replica.sample()

    def cpu_seconds(self) -> float:
        return sum(replica.cpu_seconds() for replica in self.replicas)


def replica_group(kind: AppserviceKind, homeserver_url: str, root: Path, lease_s: float) -> ReplicaGroup:
    registration = kind.registration
    replicas = []
    for number, port in enumerate(kind.replica_ports):
        extra = {
            "SURFACES_MODE": "appservice",
            "SURFACES_AS_TOKEN": registration.as_token,
            "SURFACES_HS_TOKEN": registration.hs_token,
            "SURFACES_APPSERVICE_PORT": str(port),
            "SURFACES_DATABASE_URL": kind.database_url,
            "SURFACES_REPLICA_ID": kind.replica_id(number),
            "SURFACES_LEASE_S": str(lease_s),
        }
        bot = BenchBot(kind.kind, kind.user_id, PASSWORD, root / f"replica-{number}", homeserver_url, extra)
        replicas.append(bot)
    return ReplicaGroup(kind.kind, kind.user_id, replicas, kind.forwarder)


async def lease_holders(database_url: str) -> dict[str, str]:
    """person → the replica holding a live lease on them now (PostgreSQL's clock, as the replicas use)."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT person, holder FROM person_leases WHERE holder IS NOT NULL AND expires_at > now()")
            )
            return {row.person: row.holder for row in rows}
    finally:
        await engine.dispose()


async def until_idle(group: ReplicaGroup, idle_cpu_s: float = 0.05, quiet_s: int = 3, cap_s: float = 300) -> float:
    """Waits until the replicas' CPU stays under `idle_cpu_s` a second for `quiet_s` seconds in a row: the
    homeserver has no transaction left for them. Returns the seconds waited."""
    waited, quiet, last = 0.0, 0, group.cpu_seconds()
    while quiet < quiet_s and waited < cap_s:
        await asyncio.sleep(1)
        waited += 1
        group.sample()
        now = group.cpu_seconds()
        quiet = quiet + 1 if now - last < idle_cpu_s else 0
        last = now
    return waited
