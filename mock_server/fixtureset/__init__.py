"""Fixture files: generate, check, load."""
