"""What `downlinks-mock serve` prints once it answers: the URL, a token to try, the control
plane, the store and workers, and a loud warning off loopback (docs/security.md)."""

from __future__ import annotations

from mock_server.config import MEMORY_STORE, AuthMode, MockConfig, is_loopback, masked_store

__all__ = ["banner"]


def _exposure_warning(host: str, auth: AuthMode) -> list[str]:
    """The loud lines for an address other machines can reach (docs/security.md)."""
    if is_loopback(host):
        return []
    api = {
        AuthMode.LENIENT: "The API takes any well-formed token (--auth lenient), signed or not.",
        AuthMode.OFF: "The API asks for no token either (--auth off).",
    }.get(auth, f"The API needs tokens signed with your key (--auth {auth.value}).")
    rule = "!" * 78
    return [
        rule,
        f"WARNING: listening on {host}, which is not a loopback address. Anyone who can",
        "reach this machine can send requests to it. The control plane (/__mock: reset,",
        "scenarios, faults, the clock) needs the admin token above.",
        api,
        "Use --host 127.0.0.1 unless you mean to share the mock; see docs/security.md.",
        rule,
    ]


def _store_label(config: MockConfig) -> str:
    """The store as the banner names it: memory, or the Redis URL (password masked), its
    key prefix and the number of workers."""
    if config.store == MEMORY_STORE:
        return "store memory"
    label = f"store {masked_store(config.store)} prefix {config.store_prefix}"
    return label + (f", {config.workers} workers" if config.workers > 1 else "")


def banner(config: MockConfig, url: str, pids: list[int] | None = None) -> str:
    """The banner for a mock at `url`; `pids`: its worker processes (`serve --workers`)."""
    from mock_server.http.auth import mint_token

    lines = [
        f"Downlinks mock on {url}  (auth {config.auth_mode.value}, clock {config.clock_mode.value}, "
        f"scenario {config.scenario}, {_store_label(config)})"
    ]
    token = None
    if config.auth_mode is AuthMode.LENIENT:
        token = mint_token("demo-client")
    elif config.auth_mode is AuthMode.HS256:
        token = mint_token("demo-client", mode=AuthMode.HS256, secret=config.secret)
    if token:
        lines += [
            "Token (client demo-client, every scope):",
            f"  {token}",
            "Try:",
            f"  curl -s -H 'Authorization: Bearer {token}' {url}/downlinks",
        ]
    elif config.auth_mode is AuthMode.OFF:
        lines += ["No token needed (auth off). Try:", f"  curl -s {url}/downlinks"]
    else:
        lines += ["Sign tokens (RS256/ES256) with a key of your JWKS file."]
    lines.append(f"Control plane: {url}/__mock/health  (spec: {url}/__mock/openapi.json)")
    if config.admin_token:
        lines += [
            "Admin token (the control plane needs it: Authorization: Bearer <admin token>):",
            f"  {config.admin_token}",
        ]
    lines.append(f"Web view: {url}/__mock/ui  (API spec: {url}/openapi.json)")
    if pids:
        lines.append(
            f"Workers: {len(pids)} processes on one port (pids {' '.join(map(str, pids))})"
        )
    lines += _exposure_warning(config.host, config.auth_mode)
    return "\n".join(lines)
