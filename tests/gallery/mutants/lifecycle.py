"""Mutants of the lifecycle as M4 shows it (S1, S2): a move S1 forbids made, a move logged
short. Each patches the one app's store instance, never a module or class."""

from __future__ import annotations

from typing import Any

from mock_server.domain import lifecycle
from mock_server.domain.model import Downlink, Status
from tests.gallery.mutant import mutant, store_of

__all__: list[str] = []


@mutant("S1", description="a RETRY downlink may move straight to SENT_TO_CARRIER")
def retry_skips_executing(app: Any) -> Any:
    store = store_of(app)
    transition = store.transition

    def patched(dl: Downlink, target: Status, at: int, **options: Any) -> Downlink:
        if dl.status is Status.RETRY and target is Status.SENT_TO_CARRIER:
            at = lifecycle.stamp(dl.modified_at, at)
            entries = lifecycle.move_logs(Status.EXECUTING, target, at, parts=dl.parts)
            return store.record(dl, lifecycle.Change(target, at, entries))
        return transition(dl, target, at, **options)

    store.transition = patched  # type: ignore[method-assign]
    return app


@mutant("S2", description="SENT_TO_CARRIER logs one DOWNLINK_PART_SENT, whatever the parts")
def part_sent_logged_once(app: Any) -> Any:
    store = store_of(app)
    transition = store.transition

    def patched(dl: Downlink, target: Status, at: int, **options: Any) -> Downlink:
        if target is Status.SENT_TO_CARRIER:
            options["parts"] = 1
        return transition(dl, target, at, **options)

    store.transition = patched  # type: ignore[method-assign]
    return app
