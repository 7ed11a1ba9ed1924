"""Turn a base URL and what the user gave into a `Target`: mode (K2, M1) and tokens.

    target = discover("http://127.0.0.1:8080", mode="auto", token=None)

`GET /__mock/health` decides: when it answers M1's shape the target has the test hooks
(full mode in `auto`) and says how it checks tokens; with `lenient` or `off` auth the suite
mints its own unsigned tokens for clients `contract-<run_id>-a` and `-b`.
"""

from __future__ import annotations

import enum
from typing import Any
from urllib.parse import urlsplit

import httpx

from contract_tests.context import FULL_SCOPES, READ_SCOPES, Target
from contract_tests.registry import ContractError, Mode

__all__ = [
    "ModeChoice",
    "discover",
    "probe_health",
    "probe_api",
    "check_base_url",
    "TOKEN_VARIABLES",
]

AUTH_VALUES = frozenset({"lenient", "hs256", "jwks", "off"})  # M1's "auth" values

# Where curl lines and the CLI look for tokens the user supplies (never printed).
TOKEN_VARIABLES = {
    "token": "DOWNLINKS_TOKEN",
    "other_tenant_token": "DOWNLINKS_OTHER_TENANT_TOKEN",
    "read_only_token": "DOWNLINKS_READ_ONLY_TOKEN",
}


class ModeChoice(str, enum.Enum):
    """What the user asked for with --mode."""

    AUTO = "auto"  # full when M1 answers, else black-box
    FULL = "full"  # demand the test hooks; a target without them is a usage error
    BLACK_BOX = "black-box"  # public API only, even when the hooks exist


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; a usage error unless http(s)://host[:port]."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ContractError(f"--base-url must be an http(s) URL with a host, not {base_url!r}")
    if parts.query or parts.fragment:
        raise ContractError(f"--base-url must not carry a query or fragment: {base_url!r}")
    return base_url.rstrip("/")


def probe_health(base_url: str, *, timeout: float = 10.0) -> str | None:
    """M1's `auth` value when GET /__mock/health answers M1's shape, else None.
    An unreachable target is a `ContractError` (exit code 2)."""
    url = base_url + "/__mock/health"
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.TimeoutException:
        raise ContractError(f"{base_url} did not answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise ContractError(f"cannot reach {base_url}: {exc or type(exc).__name__}") from None
    if response.status_code != 200:
        return None
    try:
        body: Any = response.json()
    except ValueError:
        return None
    if (
        isinstance(body, dict)
        and body.get("status") == "ok"
        and isinstance(body.get("version"), str)
        and body.get("auth") in AUTH_VALUES
    ):
        return str(body["auth"])
    return None


def _media(response: httpx.Response) -> str:
    media: str = response.headers.get("content-type", "")
    return media.split(";")[0].strip().lower()


def _is_json_media(media: str) -> bool:
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def probe_api(base_url: str, token: str, *, timeout: float = 10.0) -> None:
    """A `ContractError` unless `GET /downlinks?limit=1` answers like the Downlinks API: a
    JSON page with an `items` array, or a JSON refusal of the token (401, 403). A 5xx is let
    through: the API is there but broken, which the checks report. Anything else (a static
    file server's 404 page, an HTML login form) stops the run before any check, so a wrong
    URL is one line, not a page of rule failures."""
    url = base_url + "/downlinks"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(url, params={"limit": "1"}, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        raise ContractError(f"{base_url} did not answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise ContractError(f"cannot reach {base_url}: {exc or type(exc).__name__}") from None
    status, media = response.status_code, _media(response)
    if status >= 500:
        return
    body: Any = None
    if _is_json_media(media):
        try:
            body = response.json()
        except ValueError:
            body = None
    if status == 200 and isinstance(body, dict) and isinstance(body.get("items"), list):
        return
    if status in (401, 403) and isinstance(body, dict):
        return
    got = f"{status} {media or 'without a Content-Type'}"
    if status == 200 and body is not None:
        got += " without an items array"
    raise ContractError(
        f"{base_url} does not look like the Downlinks API: GET /downlinks answered {got}, "
        "not a JSON page of downlinks"
    )


def discover(
    base_url: str,
    *,
    mode: ModeChoice | str = ModeChoice.AUTO,
    token: str | None = None,
    other_tenant_token: str | None = None,
    read_only_token: str | None = None,
    run_id: str,
    timeout: float = 10.0,
) -> Target:
    """Probe the target and settle mode and tokens; `ContractError` when that is impossible."""
    base_url = check_base_url(base_url)
    choice = ModeChoice(mode)
    auth = probe_health(base_url, timeout=timeout)
    if choice is ModeChoice.FULL and auth is None:
        raise ContractError(
            f"--mode full needs the test hooks M1-M5, but GET {base_url}/__mock/health "
            "does not answer M1's shape"
        )
    resolved = (
        Mode.FULL if auth is not None and choice is not ModeChoice.BLACK_BOX else Mode.BLACK_BOX
    )
    target = Target(base_url=base_url, mode=resolved, auth=auth, token=token or "")
    minted_a = target.mint(f"contract-{run_id}-a", FULL_SCOPES)
    if not token:
        if minted_a is None:
            how = "its auth is " + auth if auth else "it does not answer M1 (GET /__mock/health)"
            raise ContractError(
                f"--token is required: the suite cannot mint tokens for {base_url} ({how})"
            )
        target.token = minted_a
    # With auth off every caller is one tenant with every scope: tenancy and scopes cannot
    # be shown, so the tokens that would show them stay unset (their checks skip, K2).
    tenancy = auth != "off"
    if other_tenant_token:
        target.other_tenant_token = other_tenant_token
    elif tenancy:
        target.other_tenant_token = target.mint(f"contract-{run_id}-b", FULL_SCOPES)
    if read_only_token:
        target.read_only_token = read_only_token
    elif tenancy:
        target.read_only_token = target.mint(f"contract-{run_id}-a", READ_SCOPES)
    given = {"token": token, "other_tenant_token": other_tenant_token}
    given["read_only_token"] = read_only_token
    target.secrets = {TOKEN_VARIABLES[k]: v for k, v in given.items() if v}
    probe_api(base_url, target.token, timeout=timeout)
    return target
