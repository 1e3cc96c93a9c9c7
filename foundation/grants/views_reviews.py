"""Routes (being built)."""
