"""Harness for end-to-end tests: a local homeserver, ordinary Matrix users, the bot as a process."""

from tests.e2e.harness.bot_process import REPO_ROOT, BotProcess
from tests.e2e.harness.matrix_user import Event, MatrixUser, Predicate

__all__ = ["REPO_ROOT", "BotProcess", "Event", "MatrixUser", "Predicate"]
