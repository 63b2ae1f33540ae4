"""What the router adds to the contract: it picks the agent's client, and refuses agents it does not know."""

import pytest

from adapters.platform.echo import EchoPlatformClient
from adapters.platform.routed import RoutedPlatformClient
from domain.model.context import ChatContext
from domain.model.ids import AgentId
from ports.platform import ContextTransferUnsupported, PlatformError
from tests.unit.platform.test_platform_contract import ask

ECHO, NOSAVE, GHOST = AgentId("echo"), AgentId("echo-nosave"), AgentId("ghost")


class SickPlatformClient(EchoPlatformClient):
    def __init__(self, failing: bool = False) -> None:
        super().__init__()
        self._failing = failing

    async def health(self) -> bool:
        if self._failing:
            raise PlatformError("health endpoint unreachable")
        return False


def _router() -> tuple[RoutedPlatformClient, EchoPlatformClient, EchoPlatformClient]:
    echo, nosave = EchoPlatformClient(), EchoPlatformClient(context_transfer=False)
    return RoutedPlatformClient({ECHO: echo, NOSAVE: nosave}), echo, nosave


async def test_each_agents_messages_reach_only_its_client() -> None:
    router, echo, nosave = _router()
    to_echo, to_nosave = ChatContext.fresh(ECHO), ChatContext.fresh(NOSAVE)
    await ask(router, to_echo, "for echo")
    await ask(router, to_nosave, "for nosave")
    assert echo.history(to_echo.platform_chat_id) == ("for echo",)
    assert nosave.history(to_nosave.platform_chat_id) == ("for nosave",)
    assert echo.history(to_nosave.platform_chat_id) == ()


async def test_context_transfer_follows_the_agents_capability() -> None:
    router, _, _ = _router()
    assert await router.export_context(ChatContext.fresh(ECHO)) == "[]"
    with pytest.raises(ContextTransferUnsupported, match="echo-nosave"):
        await router.export_context(ChatContext.fresh(NOSAVE))


async def test_unknown_agent_is_a_platform_error_for_every_call() -> None:
    router, _, _ = _router()
    chat = ChatContext.fresh(GHOST)
    calls = [
        ask(router, chat, "hello"),
        router.disconnect_chat(chat),
        router.export_context(chat),
        router.import_context(chat, "[]"),
        router.suggest_title(chat, "q", "a"),
    ]
    for call in calls:
        with pytest.raises(PlatformError, match="unknown agent ghost"):
            await call


@pytest.mark.parametrize("sick", [SickPlatformClient(), SickPlatformClient(failing=True)])
async def test_healthy_only_when_every_client_is(sick: SickPlatformClient) -> None:
    assert await RoutedPlatformClient({ECHO: EchoPlatformClient()}).health() is True
    assert await RoutedPlatformClient({ECHO: EchoPlatformClient(), GHOST: sick}).health() is False


class ClosableEcho(EchoPlatformClient):
    closed = 0

    async def aclose(self) -> None:
        self.closed += 1


async def test_aclose_closes_each_client_that_holds_connections_once() -> None:
    closable = ClosableEcho()
    await RoutedPlatformClient({ECHO: closable, NOSAVE: EchoPlatformClient()}).aclose()
    assert closable.closed == 1
