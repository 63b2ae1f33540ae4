from typing import Protocol

from domain.model.messages import Invitation


class TransactionLog(Protocol):
    """Homeserver transactions already taken in, stored with the inbox rows they brought: a replay is recognised.
    The invitations a transaction brought are kept with it until they are acted on."""

    async def claim(self, txn_id: str) -> bool:
        """Notes the transaction as taken in, the unit of work's commit making it so; False when it was taken in
        already (a replay: nothing of it is to be recorded again)."""
        ...

    async def keep_invitation(self, invitation: Invitation) -> None:
        """Keeps the invitation until it is acted on (a later one into the same room replaces it)."""
        ...

    async def invitations(self) -> list[Invitation]:
        """The invitations kept and not acted on yet, oldest first."""
        ...
