"""Every mutant of the gallery; importing this package registers them all in `MUTANTS`."""

from __future__ import annotations

from ..mutant import MUTANTS
from . import access, cancel, create, listing, time

__all__ = ["MUTANTS", "MODULES"]

MODULES = (access, create, time, listing, cancel)
