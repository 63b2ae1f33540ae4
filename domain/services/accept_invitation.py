"""Decides whether to join a room the bot was invited to, and onboards the inviter."""

import logging

from domain.model.messages import Invitation
from domain.services.access import AccessPolicy
from domain.services.onboard_user import OnboardUser
from ports.topology import ChatTopology

log = logging.getLogger(__name__)


class AcceptInvitation:
    """Joins and onboards invites from allowed people; rejects all others."""

    def __init__(self, access: AccessPolicy, topology: ChatTopology, onboard: OnboardUser) -> None:
        self._access = access
        self._topology = topology
        self._onboard = onboard

    async def execute(self, invitation: Invitation) -> None:
        if not self._access.allows(invitation.inviter):
            log.warning("invite_rejected", extra={"room_id": invitation.room_id, "inviter": invitation.inviter})
            await self._topology.reject(invitation.room_id, "This bot is not available to you.")
            return
        await self._topology.join(invitation.room_id)
        await self._onboard.execute(invitation.inviter, invitation.room_id)
