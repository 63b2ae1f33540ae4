"""Issue 17: the scale compose stack, two appservice replicas behind HAProxy, driven as ordinary Matrix clients.

One stack for the module (deploy/docker-compose.scale.yml; tests/e2e/scale_stack.py) and one crowd of ten people
with five chats each, shared by the bursts. The tests run in file order: the kill test brings its replica back.
Nothing here asserts a timing; the waits are generous ceilings (bench/ measures speed).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import pytest

from tests.e2e.conftest import BotUnderTest
from tests.e2e.harness import MatrixUser
from tests.e2e.helpers import ask, body, onboard
from tests.e2e.scale_burst import PASSWORD, Burst, Person, onboard_person
from tests.e2e.scale_stack import BOT_ID, DEVICE_ID, REPLICAS, ScaleStack, get_status, scale_stack  # noqa: F401

PEOPLE, CHATS, PER_ROOM = 10, 5, 20  # 1,000 messages
KILL_AFTER = 300  # answers, then one replica is killed
RESTART_AFTER = 40  # answers of the 200 sent, then Synapse is killed and started again
ANSWERS_WAIT = 900  # seconds: a ceiling for a busy two-core machine, not an expectation

pytestmark = pytest.mark.timeout(1800)  # the first test also builds the images and starts the stack


@pytest.fixture(scope="module")
def crowd(scale_stack: ScaleStack) -> Iterator[list[Person]]:  # noqa: F811
    """Ten people, each onboarded through the balancer (DM, Space, first chat) with four more chats by `!new`."""
    user_ids = [scale_stack.register(scale_stack.new_localpart(), PASSWORD) for _ in range(PEOPLE)]

    async def everyone() -> list[Person]:
        onboarding = (onboard_person(scale_stack.synapse_url, BOT_ID, user, CHATS) for user in user_ids)
        return list(await asyncio.gather(*onboarding))

    # On a thread of its own: asyncio.run here must not touch the loop pytest-asyncio keeps for the tests.
    with ThreadPoolExecutor(1) as thread:
        yield thread.submit(asyncio.run, everyone()).result()


def test_comes_up_healthy_with_both_replicas_behind_the_balancer(scale_stack: ScaleStack) -> None:  # noqa: F811
    services = [json.loads(line) for line in scale_stack.compose("ps", "--all", "--format", "json").splitlines()]
    assert {s["Service"]: s["Health"] for s in services} == {
        name: "healthy" for name in ("synapse-db", "bot-db", "synapse", "agent", "bot-a", "bot-b", "lb")
    }
    assert scale_stack.backends() == {"bot-a": "UP", "bot-b": "UP"}
    assert get_status(f"{scale_stack.monitor_url}/health", {})[0] == 200


async def test_a_person_gets_a_space_a_chat_and_an_answer(scale_stack: ScaleStack) -> None:  # noqa: F811
    user_id = scale_stack.register(scale_stack.new_localpart(), PASSWORD)
    user = await MatrixUser.login(scale_stack.synapse_url, user_id, PASSWORD)
    bot = cast(BotUnderTest, _Bot())
    try:
        _, _, chat = await onboard(user, bot)
        reply = await ask(user, bot, chat, "hello through the load balancer", 120)
        assert body(reply) == "hello through the load balancer"  # the reference agent's echo brain
    finally:
        await user.close()


def test_a_wrong_hs_token_is_refused_through_the_balancer(scale_stack: ScaleStack) -> None:  # noqa: F811
    url = f"{scale_stack.lb_url}/_matrix/app/v1/transactions/wrong-token-{scale_stack.project}"
    events = json.dumps({"events": []}).encode()
    refused, answer = get_status(url, {"Authorization": "Bearer not-the-hs-token"}, "PUT", events)
    assert (refused, json.loads(answer)["errcode"]) == (403, "M_FORBIDDEN")
    assert get_status(url, {}, "PUT", events)[0] == 401
    # The same request with the right token is taken: the refusal is the token's, not the balancer's.
    assert get_status(url, {"Authorization": f"Bearer {scale_stack.hs_token}"}, "PUT", events)[0] == 200


def test_device_id_without_user_id_is_a_server_error_on_postgresql_too(scale_stack: ScaleStack) -> None:  # noqa: F811
    """Synapse 1.163 passes the sender as a UserID object where a string is bound (docs/appservice.md): SQLite
    answers 500, and so does psycopg2. The bot always sends `user_id` with `device_id`, which works."""
    whoami = f"{scale_stack.synapse_url}/_matrix/client/v3/account/whoami"
    as_token = {"Authorization": f"Bearer {scale_stack.as_token}"}
    status, answer = get_status(f"{whoami}?device_id={DEVICE_ID}", as_token)
    assert (status, json.loads(answer)["errcode"]) == (500, "M_UNKNOWN")
    assert "can't adapt type 'UserID'" in scale_stack.logs("synapse", tail=200)
    status, answer = get_status(f"{whoami}?user_id=%40surfaces%3Alocalhost&device_id={DEVICE_ID}", as_token)
    assert (status, json.loads(answer)) == (200, {"user_id": BOT_ID, "is_guest": False, "device_id": DEVICE_ID})


async def test_a_thousand_messages_are_each_answered_once_in_order(
    scale_stack: ScaleStack,  # noqa: F811
    crowd: list[Person],
) -> None:
    burst = Burst(scale_stack.synapse_url, BOT_ID, crowd, PER_ROOM)
    await burst.run(ANSWERS_WAIT)
    assert len(burst.asked) == PEOPLE * CHATS * PER_ROOM
    await asyncio.sleep(3)  # a duplicate would follow soon after the first answer: give it the time to show
    await _assert_no_problems(burst)


async def test_kill_9_of_a_replica_mid_burst_loses_and_doubles_nothing(
    scale_stack: ScaleStack,  # noqa: F811
    crowd: list[Person],
) -> None:
    burst = Burst(scale_stack.synapse_url, BOT_ID, crowd, PER_ROOM)
    killed: list[tuple[str, int, dict[str, int]]] = []

    async def kill_the_busier_replica(answered: int) -> None:
        if answered >= KILL_AFTER and not killed:
            leases = await asyncio.to_thread(_live_leases, scale_stack)
            victim = max(REPLICAS, key=lambda replica: leases.get(replica, 0))
            await asyncio.to_thread(scale_stack.kill, victim)
            killed.append((victim, answered, leases))

    await burst.run(ANSWERS_WAIT, kill_the_busier_replica)
    await asyncio.sleep(3)
    assert killed, "the burst ended before a replica could be killed"
    victim, answered, leases = killed[0]
    print(f"killed {victim} after {answered} answers, leases then: {leases}")
    await _assert_no_problems(burst)
    # The balancer noticed by its health checks (the dead replica is out), and it takes the replica back.
    survivor = next(replica for replica in REPLICAS if replica != victim)
    print(f"the balancer has {victim} {scale_stack.wait_backend(victim, up=False)!r}")
    scale_stack.wait_backend(survivor, up=True)
    await asyncio.to_thread(scale_stack.start_and_wait, victim)
    scale_stack.wait_backend(victim, up=True)


async def test_synapse_killed_and_started_mid_stream_loses_and_doubles_nothing(
    scale_stack: ScaleStack,  # noqa: F811
    crowd: list[Person],
) -> None:
    burst = Burst(scale_stack.synapse_url, BOT_ID, crowd, 4)  # 200 messages
    restarted: list[int] = []

    async def restart_synapse(answered: int) -> None:
        if answered >= RESTART_AFTER and not restarted:
            # Transactions are flowing: Synapse dies with some not yet acknowledged, or answers half sent.
            await asyncio.to_thread(scale_stack.kill, "synapse")
            await asyncio.to_thread(scale_stack.start_and_wait, "synapse")
            restarted.append(answered)

    await burst.run(ANSWERS_WAIT, restart_synapse)
    await asyncio.sleep(3)
    assert restarted, "every answer came before Synapse could be restarted"
    print(f"Synapse killed after {restarted[0]} answers; failed polls while it was down: {len(burst.errors)}")
    await _assert_no_problems(burst)


async def _assert_no_problems(burst: Burst) -> None:
    problems = burst.problems(await burst.histories())
    assert not problems, f"{len(problems)} problems, the first ones:\n" + "\n".join(problems[:12])


class _Bot:
    user_id = BOT_ID


def _live_leases(stack: ScaleStack) -> dict[str, int]:
    """{replica: people it holds a live lease on}, from the bots' database."""
    query = "SELECT holder, count(*) FROM person_leases WHERE holder IS NOT NULL AND expires_at > now() GROUP BY 1"
    psql = ("psql", "-U", "surfaces", "-d", "surfaces", "-At", "-F", ",", "-c", query)
    out = stack.compose("exec", "-T", "bot-db", *psql)
    return {holder: int(count) for holder, count in (line.split(",") for line in out.splitlines() if line)}
