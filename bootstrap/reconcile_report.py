"""The reconciliation report as a pydantic model: logged at start-up and printed by `surfaces reconcile`."""

from pydantic import BaseModel

from domain.model.reconciliation import ReconciliationReport


class RepairOut(BaseModel):
    kind: str
    room_id: str
    space_id: str


class ReconciliationReportOut(BaseModel):
    dry_run: bool
    rooms_seen: int
    spaces_restored: list[str]
    rooms_restored: list[str]
    repaired: list[RepairOut]
    orphaned: list[str]
    conflicts: list[str]
    untouched: list[str]

    @classmethod
    def from_domain(cls, report: ReconciliationReport) -> "ReconciliationReportOut":
        return cls(
            dry_run=report.dry_run,
            rooms_seen=report.rooms_seen,
            spaces_restored=list(report.spaces_restored),
            rooms_restored=list(report.rooms_restored),
            repaired=[RepairOut(kind=r.kind.value, room_id=r.room_id, space_id=r.space_id) for r in report.repaired],
            orphaned=list(report.orphaned),
            conflicts=list(report.conflicts),
            untouched=list(report.untouched),
        )

    def summary(self) -> dict[str, int]:
        """Counts for the start-up log line; the full lists can be long with many rooms."""
        return {
            "rooms_seen": self.rooms_seen,
            "spaces_restored": len(self.spaces_restored),
            "rooms_restored": len(self.rooms_restored),
            "repaired": len(self.repaired),
            "orphaned": len(self.orphaned),
            "conflicts": len(self.conflicts),
            "untouched": len(self.untouched),
        }
