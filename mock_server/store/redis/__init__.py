"""State shared by several mock processes through Redis (docs/shared-mock.md)."""
