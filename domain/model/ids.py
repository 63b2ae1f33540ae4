"""Typed identifiers: a room id can never be passed where a user id is expected."""

from typing import NewType

UserId = NewType("UserId", str)
RoomId = NewType("RoomId", str)
EventId = NewType("EventId", str)
AgentId = NewType("AgentId", str)
PlatformChatId = NewType("PlatformChatId", str)
