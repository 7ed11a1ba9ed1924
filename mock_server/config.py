"""Everything `downlinks-mock serve` can be told, in one value with sensible defaults."""

from __future__ import annotations

import enum
import ipaddress
import re
import secrets
import socket
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = [
    "AuthMode",
    "ClockMode",
    "MockConfig",
    "REPO_ROOT",
    "DATA_ROOT",
    "OPENAPI_PATH",
    "MEMORY_STORE",
    "DEFAULT_STORE_PREFIX",
    "MAX_WORKERS",
    "is_loopback",
    "parse_store",
    "parse_store_prefix",
    "masked_store",
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


# `--store memory`: the embedded store, in this process only (the default).
MEMORY_STORE = "memory"
# What every key of a Redis store starts with, unless `--store-prefix` says otherwise.
DEFAULT_STORE_PREFIX = "downlinks-mock"
MAX_WORKERS = 64
_PREFIX = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_REDIS_SCHEMES = ("redis", "rediss", "unix")
_STORE_FIX = (
    "give --store memory, or a Redis URL: redis://[user:password@]host:port/db, "
    "rediss://... (TLS) or unix:///path/to/redis.sock?db=N"
)


def _db_number(text: str, where: str) -> int:
    if not text.isdigit() or len(text) > 5:
        raise ValueError(
            f"--store: the database {where} must be a number (0, 1, ...), not {text!r}; "
            + _STORE_FIX
        )
    return int(text)


def parse_store(value: str) -> str:
    """`--store` -> `memory` or a normalised Redis URL (scheme in lower case, the port and
    the database always present); ValueError naming `--store` and the fix otherwise.

    Accepted: `memory`; `redis://[user:password@]host[:port][/db]` and `rediss://...`
    (port 6379 and database 0 when left out); `unix:///path.sock[?db=N]`. Other query
    parameters are the Redis client's connection options and are kept as given.
    """
    text = value.strip()
    if text.lower() == MEMORY_STORE:
        return MEMORY_STORE
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _REDIS_SCHEMES or "://" not in text:
        raise ValueError(f"--store: {value!r} is neither memory nor a Redis URL; {_STORE_FIX}")
    if parts.fragment:
        raise ValueError(f"--store: a Redis URL has no #fragment; {_STORE_FIX}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    dbs = [v for k, v in query if k == "db"]
    if len(dbs) > 1:
        raise ValueError(f"--store: give the database once, not {len(dbs)} times; {_STORE_FIX}")
    for given in dbs:
        _db_number(given, "in ?db=")
    if scheme == "unix":
        if parts.netloc.rsplit("@", 1)[-1] or not parts.path.startswith("/"):
            raise ValueError(
                f"--store: a unix socket URL names an absolute path and no host, "
                f"unix:///path/to/redis.sock, not {value!r}"
            )
        if not dbs:
            query.append(("db", "0"))
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@" if userinfo else ""
        return f"unix://{netloc}{parts.path}?{urlencode(query, safe='/')}"
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError(
            f"--store: the port of {_masked_url(text)!r} must be a number from 1 to 65535"
        ) from None
    if not host:
        raise ValueError(f"--store: the Redis URL names no host; {_STORE_FIX}")
    if port == 0:
        raise ValueError("--store: the Redis port must be from 1 to 65535, not 0")
    path = parts.path.strip("/")
    if path and dbs:
        raise ValueError(
            "--store: give the database in the path (/1) or as ?db=1, not both; " + _STORE_FIX
        )
    db = _db_number(path, "in the path") if path else None
    if db is None and dbs:
        db = int(dbs[0])
        query = [(k, v) for k, v in query if k != "db"]
    userinfo = parts.netloc.rpartition("@")[0]
    name = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{userinfo + '@' if userinfo else ''}{name}:{port or 6379}/{db or 0}"
    return f"{url}?{urlencode(query, safe='/')}" if query else url


def _masked_url(url: str) -> str:
    """`url` with the password of its user part, and of a `password=` parameter, as ***."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    netloc = f"{userinfo}@{hostport}" if at else hostport
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs], safe="*/")
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def masked_store(store: str) -> str:
    """The store as the banner and the logs show it: a Redis URL with its password as ***."""
    return store if store == MEMORY_STORE else _masked_url(store)


def parse_store_prefix(value: str) -> str:
    """`--store-prefix` as given, or ValueError: 1-64 characters of A-Z a-z 0-9 . _ : -."""
    if not _PREFIX.fullmatch(value):
        raise ValueError(
            f"--store-prefix: {value!r} is not 1-64 characters of letters, digits and . _ : -; "
            f"for example {DEFAULT_STORE_PREFIX}:team-a"
        )
    return value


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
    journal_size: int = 1000  # M7's count; 0: no journal (faults still apply)
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
    # Where the state lives (parse_store): `memory`, this process alone, or a Redis URL
    # that several mock processes share; every key then starts with `store_prefix`.
    store: str = MEMORY_STORE
    store_prefix: str = DEFAULT_STORE_PREFIX
    # Processes answering on one port (`serve --workers`); more than one needs a Redis store.
    workers: int = 1

    def __post_init__(self) -> None:
        self.store = parse_store(self.store)
        self.store_prefix = parse_store_prefix(self.store_prefix)
        if not 1 <= self.workers <= MAX_WORKERS:
            raise ValueError(f"--workers: give 1 to {MAX_WORKERS}, not {self.workers}")
        if self.workers > 1 and self.store == MEMORY_STORE:
            raise ValueError(
                f"--workers {self.workers} needs a shared store: with --store memory each "
                "worker process would have its own downlinks; give --store redis://HOST:PORT/DB"
            )
        if self.admin_token is None and not is_loopback(self.host):
            self.admin_token = secrets.token_urlsafe(24)
