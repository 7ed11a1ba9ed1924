"""Contract checks, one module per rule group; importing this package registers them all.

`MODULES` names every check module, in the order their checks are listed in reports.
"""

from __future__ import annotations

import importlib

__all__ = ["MODULES"]

MODULES = (
    "auth",  # A: tokens, scopes, tenancy
    "errors",  # E: problem+json, errors arrays, HTTP-level refusals
    "create",  # C: POST /downlinks
    "read",  # R and T: GET one downlink, timestamps
    "listing",  # L: GET /downlinks
    "paging",  # L4-L7: order, links and cursors of GET /downlinks
    "cancel",  # X: DELETE /downlinks/{id}
)

for _name in MODULES:
    importlib.import_module(f"{__name__}.{_name}")
