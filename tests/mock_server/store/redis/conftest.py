"""Two mocks on one Redis: each a `MockServer` in its own thread and event loop, as two
processes would be (they share nothing but the store)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_server.config import ClockMode, MockConfig
from mock_server.server import MockServer
from tests.mock_server.conftest import START_MS, auth


def shared_config(url: str, **fields: Any) -> MockConfig:
    """A manual-clock mock on the shared store at `url`."""
    options: dict[str, Any] = {
        "clock_mode": ClockMode.MANUAL,
        "clock_start": START_MS,
        "scenario": "default",
        "store": url,
    }
    options.update(fields)
    return MockConfig(**options)


@pytest.fixture
def pair(redis_url: str) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Clients of two mocks sharing one store, with a token for client-a."""
    with MockServer(shared_config(redis_url)) as one, MockServer(shared_config(redis_url)) as two:
        with httpx.Client(base_url=one.base_url, headers=auth(), timeout=10) as a:
            with httpx.Client(base_url=two.base_url, headers=auth(), timeout=10) as b:
                yield a, b
