"""Typed keys of what the aiohttp application holds."""

from aiohttp import web

from platform_agent.agent import ReferenceAgent
from platform_agent.sessions import SessionStore

AGENT = web.AppKey("agent", ReferenceAgent)
SESSIONS = web.AppKey("sessions", SessionStore)
PING_INTERVAL = web.AppKey("ping_interval", float)
MODE = web.AppKey("mode", str)
