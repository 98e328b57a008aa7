"""Reusable widgets of the reading log; each carries its own DEFAULT_CSS."""
