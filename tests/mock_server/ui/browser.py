"""Headless Chromium for the web view's tests and screenshots: where the browser is, how it
is launched, and why it cannot be (one reason, for a skip or a failure)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

__all__ = ["REQUIRE_ENV", "LAUNCH_ARGS", "chromium_path", "missing", "launch"]

# Set to 1 (as .ci/run does) to make a missing browser fail the run instead of skipping.
REQUIRE_ENV = "DOWNLINKS_REQUIRE_BROWSER"
# Where to find Chromium when it is not /usr/bin/chromium (Debian's `chromium` package).
CHROMIUM_ENV = "DOWNLINKS_CHROMIUM"
# Headless, and quiet on the network: the page talks to the mock on loopback only.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The Chromium executable, or None."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured if Path(configured).is_file() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the browser tests need Playwright: pip install 'playwright>=1.40'"
    if chromium_path() is None:
        return (
            "the browser tests need Chromium: apt-get install -y chromium "
            f"(or set {CHROMIUM_ENV} to its path)"
        )
    return None


def launch(playwright: Any) -> Any:
    """Debian's Chromium driven by Playwright (no browser download: the system one)."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
