"""Everything `downlinks-mock serve` can be told, in one value with sensible defaults."""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["AuthMode", "ClockMode", "MockConfig", "REPO_ROOT", "DATA_ROOT", "OPENAPI_PATH"]

REPO_ROOT = Path(__file__).resolve().parent.parent
# The data the mock reads at run time (openapi.json, the scenario library, the shipped
# fixtures): the source tree when installed from it (`pip install -e .`), else the copy a
# wheel installs under <prefix>/share/downlinks-mock.
DATA_ROOT = (
    REPO_ROOT
    if (REPO_ROOT / "openapi.json").is_file()
    else Path(sys.prefix) / "share" / "downlinks-mock"
)
OPENAPI_PATH = DATA_ROOT / "openapi.json"


class AuthMode(str, enum.Enum):
    """How Bearer tokens are verified (A4)."""

    LENIENT = "lenient"  # any well-formed JWT, signature unchecked, alg none allowed
    HS256 = "hs256"  # HMAC-SHA256 with a shared secret
    JWKS = "jwks"  # RS256/ES256 against the keys of a JWKS file
    OFF = "off"  # no auth: every caller is tenant `default` with every scope


class ClockMode(str, enum.Enum):
    """What drives the mock's notion of now (T3, M5)."""

    REAL = "real"  # the wall clock
    SCALED = "scaled"  # the wall clock sped up by `speed` from `start`
    MANUAL = "manual"  # moves only when told (M5)


@dataclass
class MockConfig:
    """The mock's settings. Every field has a default that works with no configuration."""

    host: str = "127.0.0.1"
    port: int = 8080
    auth_mode: AuthMode = AuthMode.LENIENT
    secret: str | None = None  # for hs256
    jwks_path: Path | None = None  # for jwks
    clock_mode: ClockMode = ClockMode.REAL
    clock_start: int | None = None  # epoch ms; None: the wall clock at start-up
    speed: float = 1.0  # for the scaled clock
    fixtures: list[Path] = field(default_factory=list)
    scenario: str | Path | None = None  # a built-in scenario name or a scenario file
    journal_size: int = 1000
    body_limit: int = 1024 * 1024  # E3: bodies over this are 413
    page_cache: int = 1024  # rendered list pages kept while the store is unchanged; 0: none
    log_level: str = "info"
    public_url: str | None = None  # base for absolute `next`/`prev` links; None: from Host
