from adapters.platform.echo import EchoPlatformClient
from domain.model.agent import AgentEvent, AgentFailed, AgentRequest, Done, TextDelta
from domain.model.ids import AgentId, PlatformChatId, UserId

CHAT_A = PlatformChatId("chat-a")
CHAT_B = PlatformChatId("chat-b")


def _request(text: str, chat: PlatformChatId = CHAT_A) -> AgentRequest:
    return AgentRequest(
        agent_id=AgentId("echo"),
        platform_chat_id=chat,
        text=text,
        sender=UserId("@u:hs"),
    )


async def _collect(client: EchoPlatformClient, request: AgentRequest) -> list[AgentEvent]:
    return [event async for event in client.stream(request)]


def _text(events: list[AgentEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_answer_is_the_message_exactly_then_done() -> None:
    text = "  Hello,  world!\nThis is\ta longer   message with several words.  "
    events = await _collect(EchoPlatformClient(), _request(text))
    assert _text(events) == text
    assert events[-1] == Done()
    assert all(isinstance(e, TextDelta) for e in events[:-1])


async def test_answer_streams_in_chunks_of_a_few_words() -> None:
    events = await _collect(EchoPlatformClient(), _request("one two three four five six seven"))
    chunks = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(chunks) > 1
    assert all(1 <= len(chunk.split()) <= 3 for chunk in chunks)


async def test_empty_message_answers_done_only() -> None:
    assert await _collect(EchoPlatformClient(), _request("")) == [Done()]


async def test_fail_directive_answers_agent_failed() -> None:
    events = await _collect(EchoPlatformClient(), _request("!!fail"))
    assert events == [AgentFailed(message="echo agent was asked to fail")]


async def test_fail_directive_must_be_the_whole_message() -> None:
    events = await _collect(EchoPlatformClient(), _request("!!fail please"))
    assert _text(events) == "!!fail please"


async def test_sleep_directive_echoes_the_rest() -> None:
    events = await _collect(EchoPlatformClient(), _request("!!sleep 0.01 slow answer"))
    assert _text(events) == "slow answer"
    assert events[-1] == Done()


async def test_malformed_sleep_directive_is_echoed() -> None:
    events = await _collect(EchoPlatformClient(), _request("!!sleep soon"))
    assert _text(events) == "!!sleep soon"


async def test_chunk_delay_keeps_the_answer() -> None:
    client = EchoPlatformClient(delay_per_chunk=0.001)
    assert _text(await _collect(client, _request("a b c d"))) == "a b c d"


async def test_sessions_are_kept_per_chat() -> None:
    client = EchoPlatformClient()
    await _collect(client, _request("first", CHAT_A))
    await _collect(client, _request("other", CHAT_B))
    await _collect(client, _request("second", CHAT_A))
    assert client.history(CHAT_A) == ("first", "second")
    assert client.history(CHAT_B) == ("other",)


async def test_disconnect_drops_only_that_chat() -> None:
    client = EchoPlatformClient()
    await _collect(client, _request("a", CHAT_A))
    await _collect(client, _request("b", CHAT_B))
    await client.disconnect_chat(CHAT_A)
    assert client.history(CHAT_A) == ()
    assert client.history(CHAT_B) == ("b",)


async def test_is_healthy() -> None:
    assert await EchoPlatformClient().health() is True
