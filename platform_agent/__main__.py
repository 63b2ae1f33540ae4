"""`surfaces-agent`: runs the reference platform agent until SIGINT or SIGTERM."""

import sys

import structlog
from aiohttp import web
from pydantic import ValidationError

from platform_agent.app import make_app
from platform_agent.logs import configure_logging
from platform_agent.settings import AgentSettings

log = structlog.get_logger("platform_agent")


def main() -> None:
    try:
        settings = AgentSettings()
    except ValidationError as error:
        sys.exit(f"surfaces-agent: invalid settings:\n{error}")
    configure_logging(settings.log_format, settings.log_level)
    settings.workspace_dir.mkdir(parents=True, exist_ok=True)
    log.info(
        "agent_starting",
        host=settings.host,
        port=settings.port,
        mode=settings.mode,
        workspace=str(settings.workspace_dir.resolve()),
        upstream=settings.upstream_url,
        model=settings.upstream_model,
    )
    # aiohttp handles SIGINT/SIGTERM: stops accepting, lets in-flight answers finish, runs cleanup.
    web.run_app(make_app(settings), host=settings.host, port=settings.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
