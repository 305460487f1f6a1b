"""What a batch of memberships carries through the engine (campaigns.engine) and what each
step kind (campaigns.steps) says of them: go on (yes or no), wait, leave, or fail.

A step kind's handler gets every membership of the batch standing at that step at once,
and decides for all of them in a bounded number of queries: the engine then moves those
that go on to their next step in memory, and writes the rest, set-based, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

# "gone": the batch no longer holds it (a goal its own step reached took it out, or
# another worker took it over): walked no further, not written.
Outcome = Literal["yes", "no", "wait", "leave", "fail", "gone"]


@dataclass
class Walker:
    """One membership (an Enrollment row) during a batch."""

    pk: int
    lead_id: int
    campaign_id: int
    position: int
    entered_at: datetime
    step_since: datetime | None
    loop: int
    waits_for: str = ""
    deadline: datetime | None = None
    waiting_for_id: int | None = None
    # Set by the step's handler:
    outcome: Outcome | None = None
    due: datetime | None = None  # wait: when to look again
    reason: str = ""  # leave / fail
    status: str = ""  # leave: the enrollment status
    hops: int = 0
    # What it did to the step counters in this batch, (position, "entered" / "passed" /
    # "exited"): counted only if the batch still holds it when it writes.
    counted: list[tuple[int, str]] = field(default_factory=list)

    def key(self) -> str:
        """Names this visit of this step: its effects are done once per key."""
        base = f"enrollment:{self.pk}:step:{self.position}"
        return f"{base}:{self.loop}" if self.loop else base

    # What a handler says:
    def yes(self) -> None:
        self.outcome = "yes"

    def no(self) -> None:
        self.outcome = "no"

    def wait(self, due: datetime, *, waits_for: str = "", deadline: datetime | None = None,
             message_id: int | None = None) -> None:
        self.outcome, self.due = "wait", due
        self.waits_for, self.deadline, self.waiting_for_id = waits_for, deadline, message_id

    def leave(self, reason: str, status: str = "exited") -> None:
        self.outcome, self.reason, self.status = "leave", reason, status

    def fail(self, error: str) -> None:
        self.outcome, self.reason = "fail", error
