"""Start-up failures an operator must act on, each with its own process exit code."""

EXIT_CONFIG = 2
EXIT_HOMESERVER = 3
EXIT_DATABASE = 4


class StartupError(Exception):
    """Stops the bot with a one-line explanation and a distinct exit code; nothing is created or changed."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
