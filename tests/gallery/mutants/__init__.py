"""Every mutant of the gallery; importing this package registers them all in `MUTANTS`."""

from __future__ import annotations

from tests.gallery.mutant import MUTANTS
from tests.gallery.mutants import access, cancel, create, listing, time, validation

__all__ = ["MUTANTS", "MODULES"]

MODULES = (access, validation, create, time, listing, cancel)
from tests.gallery.mutants import (  # noqa: E402  (each registers its mutants)
    inputs,  # noqa: F401
    lifecycle,  # noqa: F401
    methodical,  # noqa: F401
    pointers,  # noqa: F401
    tenancy,  # noqa: F401
    walks,  # noqa: F401
)
