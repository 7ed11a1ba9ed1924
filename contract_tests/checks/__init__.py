"""Contract checks, one module per rule group."""
