"""Contract checks, one module per rule group; importing this package registers them all.

`MODULES` names every check module, in the order their checks are listed in reports.
"""

from __future__ import annotations

import importlib

__all__ = ["MODULES"]

MODULES = (
    "auth",  # A: tokens, scopes, tenancy
    "errors",  # E: problem+json, errors arrays, HTTP-level refusals
    "create",  # C1-C5: what POST /downlinks accepts and refuses
    "created",  # C6-C9: what a create stores and answers
    "read",  # R and T: GET one downlink, timestamps
    "listing",  # L: GET /downlinks
    "paging",  # L4, L5: order and links of GET /downlinks
    "cursors",  # L6, L7: walks and cursors
    "cancel",  # X: DELETE /downlinks/{id}
    "boundaries",  # E3, C6, X5: both sides of each bound, near misses of exact rules
    "exclusion",  # L1: what q must leave out
    "views",  # T2: every view of a downlink after every change
    "observed",  # X3: states the target reaches on its own, in black-box mode
    "pointers",  # E2: where each C2/C3 violation of a pack is pointed at
    "lifecycle",  # S1, S2: the moves M4 makes and what each logs
    "sortwalks",  # L6: walks by every sortable field and under time bounds
    "tenancy",  # A5: a client that owns nothing
    "inputs",  # C1, C4, A3: a protocol of another type, durations naming no time, nbf ahead
)

for _name in MODULES:
    importlib.import_module(f"{__name__}.{_name}")
