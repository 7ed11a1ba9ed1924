"""The package's public surface: what `import mock_server` promises."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mock_server


def test_public_names_resolve_to_the_real_objects() -> None:
    from mock_server.app import create_app
    from mock_server.config import MockConfig
    from mock_server.http.auth import mint_token
    from mock_server.server import MockServer

    assert mock_server.create_app is create_app
    assert mock_server.MockConfig is MockConfig
    assert mock_server.MockServer is MockServer
    assert mock_server.mint_token is mint_token
    assert set(mock_server.__all__) == {
        "__version__",
        "create_app",
        "MockConfig",
        "MockServer",
        "mint_token",
    }


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = mock_server.nothing_here  # type: ignore[attr-defined]


def test_loading_the_pytest_plugin_does_not_import_the_app() -> None:
    code = (
        "import sys, mock_server.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.startswith(('mock_server.app', 'starlette'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_app_serves_from_the_curated_names() -> None:
    from starlette.testclient import TestClient

    app = mock_server.create_app(mock_server.MockConfig())
    token = mock_server.mint_token("package-test")
    with TestClient(app) as client:
        answer = client.get("/downlinks", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.json()["items"] == []
