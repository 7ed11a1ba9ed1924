"""A stateful, spec-driven mock of the KPN Things Downlinks API.

The public surface: `create_app` (the ASGI app), `MockConfig` (its settings), `MockServer`
(the app on a free loopback port in a thread) and `mint_token` (a token the mock accepts).
They are imported on first use, so that `import mock_server.<module>` stays cheap (the
pytest plugin loads in every test run of every project that installs the package).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["__version__", "create_app", "MockConfig", "MockServer", "mint_token"]

__version__ = "0.1.0"

_EXPORTS = {
    "create_app": "mock_server.app",
    "MockConfig": "mock_server.config",
    "MockServer": "mock_server.server",
    "mint_token": "mock_server.http.auth",
}

if TYPE_CHECKING:
    from mock_server.app import create_app
    from mock_server.config import MockConfig
    from mock_server.http.auth import mint_token
    from mock_server.server import MockServer


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mock_server' has no attribute {name!r}")
    return getattr(import_module(module), name)
