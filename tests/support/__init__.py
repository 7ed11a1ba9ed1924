"""Test support: a real redis-server for the Redis store's tests, and a proxy that spreads
requests over several mocks in turn."""
