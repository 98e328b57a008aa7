"""The Textual reading log: ``triage tui``."""

from triage.tui.app import TriageApp, make_app

__all__ = ["TriageApp", "make_app"]
