"""The domain's data: downlinks, their log entries, statuses and events, and a new downlink.

The rules of a downlink's life (the S1 move table, S2's log entries, the cancel rule)
live in `mock_server.domain.lifecycle`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from mock_server.domain.timefmt import format_ms

__all__ = [
    "Status",
    "Event",
    "TERMINAL",
    "LogEntry",
    "Downlink",
    "NewDownlink",
]


class Status(str, enum.Enum):
    """Where a downlink is in its life (S1)."""

    PENDING = "PENDING"  # accepted and queued, nothing done yet
    EXECUTING = "EXECUTING"  # being encoded and handed to the network
    SENT_TO_CARRIER = "SENT_TO_CARRIER"  # the network (carrier) has it
    RETRY = "RETRY"  # a try failed, another will follow
    DELIVERED = "DELIVERED"  # terminal: the device has it
    FAILED = "FAILED"  # terminal: given up (rejected, retries spent, timed out)
    CANCELLED = "CANCELLED"  # terminal: cancelled by the client

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


class Event(str, enum.Enum):
    """The log events of the spec's DownlinkEventType (S2)."""

    DOWNLINK_ACCEPTED = "DOWNLINK_ACCEPTED"  # created (C7)
    DOWNLINK_REJECTED = "DOWNLINK_REJECTED"  # refused by the encoder, from PENDING
    DOWNLINK_STARTED = "DOWNLINK_STARTED"  # a try begins: EXECUTING
    DOWNLINK_PART_SENT = "DOWNLINK_PART_SENT"  # one part handed to the carrier
    DOWNLINK_PART_FAILED = "DOWNLINK_PART_FAILED"  # one try of a part failed
    DOWNLINK_PART_DELIVERED = "DOWNLINK_PART_DELIVERED"  # one part reached the device
    DOWNLINK_DELIVERED = "DOWNLINK_DELIVERED"  # every part delivered
    DOWNLINK_FAILED = "DOWNLINK_FAILED"  # given up, or cancelled (X4)


TERMINAL: frozenset[Status] = frozenset({Status.DELIVERED, Status.FAILED, Status.CANCELLED})
"""The statuses with no way out (S1)."""


@dataclass(slots=True)
class LogEntry:
    """One entry of a downlink's `logs` (times in epoch milliseconds)."""

    created_at: int
    event: str | None = None
    error_code: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"createdAt": format_ms(self.created_at)}
        if self.event is not None:
            out["event"] = self.event
        if self.error_code is not None:
            out["errorCode"] = self.error_code
        return out


@dataclass(slots=True)
class Downlink:
    """A stored downlink. `owner` is the client (tenant) that may see it (A5).

    `method`, `retry_limit`, `feedback_timeout_ms` and `parts` are what the progression
    engine reads; they are not part of the public `Downlink` schema. `retries` counts the
    moves into RETRY so far (S3). `encoded` caches the public JSON until the next change.
    """

    id: str
    owner: str
    network_id: str
    status: Status
    created_at: int
    modified_at: int
    message: str = ""
    external_reference: str | None = None
    logs: list[LogEntry] = field(default_factory=list)
    method: dict[str, Any] | None = None
    retry_limit: int = 0
    feedback_timeout_ms: int | None = None
    parts: int = 1
    retries: int = 0
    progression: str | None = None
    encoded: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        """The public `Downlink` representation (C7, T1)."""
        out: dict[str, Any] = {"id": self.id, "networkId": self.network_id}
        if self.external_reference is not None:
            out["externalReference"] = self.external_reference
        out["status"] = self.status.value
        out["message"] = self.message
        out["createdAt"] = format_ms(self.created_at)
        out["modifiedAt"] = format_ms(self.modified_at)
        out["logs"] = [entry.to_json() for entry in self.logs]
        return out


@dataclass(frozen=True, slots=True)
class NewDownlink:
    """A valid create request, normalized: what the store needs to make a downlink (C1-C8)."""

    network_id: str  # the pack's bn (C2)
    message: str  # the instruction as compact JSON text (C7)
    method: dict[str, Any] | None  # with the defaults of its variant applied (C5: MQTT topic)
    external_reference: str | None
    retry_limit: int
    feedback_timeout_ms: int | None
    parts: int  # records that carry a value (at least 1), one S2 part each
    instruction: list[dict[str, Any]] = field(default_factory=list)  # the pack as sent
    dry_run: bool = False  # C8: validate only, store nothing


# The lifecycle's names, once defined here, stay importable from here for older imports.
