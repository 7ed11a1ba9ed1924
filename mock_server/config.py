"""Everything `downlinks-mock serve` can be told, in one value with sensible defaults."""

from __future__ import annotations

import enum
import ipaddress
import secrets
import socket
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

__all__ = [
    "AuthMode",
    "ClockMode",
    "MockConfig",
    "REPO_ROOT",
    "DATA_ROOT",
    "OPENAPI_PATH",
    "is_loopback",
]

# The data the mock reads at run time, inside the package: openapi.json, the scenario
# library (scenarios/) and the shipped fixtures (fixtures/default.json) are links to the
# source tree's top-level copies, whose contents a wheel carries.
DATA_ROOT = Path(str(resources.files("mock_server").joinpath("data")))
OPENAPI_PATH = DATA_ROOT / "openapi.json"
# The source tree, for tools that only run from it (tests, benchmarks, fixture recording).
REPO_ROOT = Path(__file__).resolve().parent.parent


def is_loopback(host: str) -> bool:
    """Whether listening on `host` is listening on this machine alone: a loopback address
    (127.0.0.0/8, ::1), `localhost` or a `.localhost` name, or a name that resolves to
    loopback addresses only."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos
    )


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
    # M7's byte budgets (docs/security.md): what one entry keeps of each body and of each
    # message's headers, and what the whole journal keeps; the oldest entries go first.
    journal_entry_bytes: int = 8192
    journal_bytes: int = 16 * 1024 * 1024
    # M3: the largest seeding body (`POST /__mock/downlinks`, `/__mock/devices`).
    seed_body_limit: int = 8 * 1024 * 1024
    body_limit: int = 1024 * 1024  # E3: bodies over this are 413
    page_cache: int = 1024  # rendered list pages kept while the store is unchanged; 0: none
    page_cache_bytes: int = 64 * 1024 * 1024  # and the most bytes they may hold together
    log_level: str = "info"
    public_url: str | None = None  # base for absolute `next`/`prev` links; None: from Host
    # The control plane's admin token (docs/security.md): required when `host` is not
    # loopback, and then generated at start when none is given; None on loopback: open.
    admin_token: str | None = None
    allowed_hosts: tuple[str, ...] = ()  # Host names answered on loopback besides localhost
    store: str = "memory"  # "memory", or a Redis URL shared by several mocks
    store_prefix: str = "downlinks-mock"  # the shared store's key prefix

    def __post_init__(self) -> None:
        if self.admin_token is None and not is_loopback(self.host):
            self.admin_token = secrets.token_urlsafe(24)
