"""Rebuilds the index (spaces, rooms, counters, routing) from Matrix state and repairs broken links."""

import dataclasses
import logging

from domain.model.ids import RoomId, UserId
from domain.model.observed import ObservedRoom, ObservedTopology
from domain.model.reconciliation import ReconciliationReport, Repair, RepairKind
from domain.model.room import ChatRoom
from domain.model.space import UserSpace
from domain.services.reconcile_plan import choose_spaces, shared_chat_ids, to_chat_room
from ports.topology import ChatTopology
from ports.topology_reader import TopologyReader
from ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


class ReconcileTopology:
    """Matrix wins every disagreement; unknown rooms are left alone; a dry run writes nothing anywhere."""

    def __init__(self, uow: UnitOfWorkFactory, reader: TopologyReader, topology: ChatTopology) -> None:
        self._uow = uow
        self._reader = reader
        self._topology = topology

    async def execute(self, dry_run: bool = False) -> ReconciliationReport:
        observed = await self._reader.observe()
        report = ReconciliationReport(dry_run=dry_run, rooms_seen=len(observed.rooms))
        spaces = choose_spaces(observed, report)
        async with self._uow() as uow:
            chats = await self._rebuild_rooms(uow, observed, spaces, report)
            await self._rebuild_spaces(uow, observed, spaces, chats, report)
            await self._find_orphans(uow, observed, report)
            if not dry_run:
                await uow.commit()
        await self._repair_links(observed, chats, report)
        return report

    async def _rebuild_rooms(
        self, uow: UnitOfWork, observed: ObservedTopology, spaces: dict[UserId, RoomId], report: ReconciliationReport
    ) -> list[ChatRoom]:
        chats: list[ChatRoom] = []
        rotate = shared_chat_ids(observed, report)
        for seen in observed.rooms:
            if seen.record is None:
                if seen.space_owner is None:
                    report.untouched.append(seen.room_id)
                continue
            stored = await uow.rooms.get(seen.room_id)
            chat = to_chat_room(seen, seen.record, stored)
            if seen.room_id in rotate:
                chat = dataclasses.replace(chat, context=chat.context.rotated(), message_count=0)
                report.repaired.append(
                    Repair(kind=RepairKind.CHAT_ID_ROTATED, room_id=chat.room_id, space_id=chat.space_id)
                )
                if not report.dry_run:
                    await self._topology.write_room_state(chat)
            if _differs(stored, chat):
                report.rooms_restored.append(chat.room_id)
                await uow.rooms.save(chat)
            chats.append(chat)
        return chats

    async def _rebuild_spaces(
        self,
        uow: UnitOfWork,
        observed: ObservedTopology,
        spaces: dict[UserId, RoomId],
        chats: list[ChatRoom],
        report: ReconciliationReport,
    ) -> None:
        for owner, space_id in spaces.items():
            stored = await uow.spaces.get(owner)
            counter = max((c.chat_number for c in chats if c.owner == owner), default=0)
            seen = observed.room(space_id)
            name = stored.display_name if stored else _display_name(seen, owner)
            space = UserSpace(owner=owner, display_name=name, space_id=space_id, chats_created=counter)
            if stored is not None:
                space.chats_created = max(stored.chats_created, counter)
            if stored is None or stored.space_id != space_id or stored.chats_created < counter:
                report.spaces_restored.append(space_id)
                await uow.spaces.save(space)

    async def _find_orphans(self, uow: UnitOfWork, observed: ObservedTopology, report: ReconciliationReport) -> None:
        joined = {room.room_id for room in observed.rooms}
        report.orphaned.extend(room.room_id for room in await uow.rooms.all() if room.room_id not in joined)

    async def _repair_links(
        self, observed: ObservedTopology, chats: list[ChatRoom], report: ReconciliationReport
    ) -> None:
        for chat in chats:
            space = observed.room(chat.space_id)
            room = observed.room(chat.room_id)
            listed = space is not None and chat.room_id in space.children
            if chat.is_active and space is not None and not listed:
                await self._repair(
                    Repair(kind=RepairKind.CHILD_LINKED, room_id=chat.room_id, space_id=chat.space_id), report
                )
            elif not chat.is_active and listed:
                await self._repair(
                    Repair(kind=RepairKind.CHILD_UNLINKED, room_id=chat.room_id, space_id=chat.space_id), report
                )
            if room is not None and chat.space_id not in room.parents:
                await self._repair(
                    Repair(kind=RepairKind.PARENT_LINKED, room_id=chat.room_id, space_id=chat.space_id), report
                )

    async def _repair(self, repair: Repair, report: ReconciliationReport) -> None:
        report.repaired.append(repair)
        if report.dry_run:
            return
        if repair.kind is RepairKind.CHILD_LINKED:
            await self._topology.link_child(repair.space_id, repair.room_id)
        elif repair.kind is RepairKind.CHILD_UNLINKED:
            await self._topology.unlink_child(repair.space_id, repair.room_id)
        elif repair.kind is RepairKind.PARENT_LINKED:
            await self._topology.link_parent(repair.room_id, repair.space_id)
        log.info("link_repaired", extra={"kind": repair.kind.value, "room_id": repair.room_id})


def _differs(stored: ChatRoom | None, chat: ChatRoom) -> bool:
    # ChatRoom equality is identity (room id); compare the routing fields that matter.
    if stored is None:
        return True
    return (stored.context, stored.status, stored.space_id, stored.chat_number, stored.name, stored.owner) != (
        chat.context,
        chat.status,
        chat.space_id,
        chat.chat_number,
        chat.name,
        chat.owner,
    )


def _display_name(seen: ObservedRoom | None, owner: UserId) -> str:
    prefix = "Lambda — "
    if seen is not None and seen.name and seen.name.startswith(prefix):
        return seen.name[len(prefix) :]
    return owner.split(":", 1)[0].lstrip("@")
