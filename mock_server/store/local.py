"""The store of one process: the `AsyncStore` over its own memory store, clock and
progressions, each change made at once (store/base.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mock_server.control.faults import Fault, parse_fault
from mock_server.control.journal import Journal
from mock_server.domain.model import Downlink, NewDownlink, Status
from mock_server.timeline.clock import Clock
from mock_server.timeline.scenarios import Scenario

if TYPE_CHECKING:
    from mock_server.mock import Mock

__all__ = ["LocalStore"]


class LocalStore:
    """Nothing shared: every change goes straight to the mock's own parts."""

    shared = False

    def __init__(self, mock: Mock) -> None:
        self.mock = mock

    async def sync(self) -> None:
        self.mock.clock.run_due()

    async def catch_up(self) -> None:
        pass  # nothing is made elsewhere

    async def create(self, owner: str, new: NewDownlink, now: int) -> Downlink:
        return self.mock.store.create(owner, new, now)

    async def cancel(self, owner: str, downlink_id: str, forced: bool, at: int) -> Downlink:
        return self.mock.store.cancel(owner, downlink_id, forced, at)

    async def move(
        self, downlink_id: str, target: Status, at: int, error_code: str | None = None
    ) -> Downlink:
        return self.mock.store.move(downlink_id, target, at, error_code=error_code)

    async def seed(self, downlinks: list[Downlink]) -> None:
        self.mock.store.seed(downlinks)

    async def register_devices(self, devices: list[tuple[str, dict[str, str]]]) -> None:
        self.mock.store.register_devices(devices)

    async def reset(self) -> None:
        self.mock.reset()

    async def change_clock(self, change: Callable[[Clock], object]) -> None:
        change(self.mock.clock)

    async def use_scenario(self, scenario: Scenario) -> None:
        self.mock.progressions.use(scenario)

    async def record(self, fields: tuple[Any, ...]) -> None:
        self.mock.journal.append(fields)

    async def read_journal(self, newest: int | None = None) -> Journal:
        return self.mock.journal

    async def clear_journal(self) -> None:
        self.mock.journal.clear()

    async def add_fault(self, body: dict[str, Any]) -> Fault:
        return self.mock.faults.add(parse_fault(body))

    async def remove_faults(self, fault_id: str | None = None) -> None:
        if fault_id is None:
            self.mock.faults.clear()
        else:
            self.mock.faults.remove(fault_id)

    async def claim_fault(self, fault: Fault) -> bool:
        return True
