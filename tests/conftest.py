"""Fixtures for the whole suite: a real redis-server (tests/support/redis_server.py)."""

from __future__ import annotations

pytest_plugins = ["tests.support.redis_server"]
