"""The clock, scenarios and progressions (due moves)."""
