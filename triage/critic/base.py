"""The one critic interface; the decision rules both critics share are in ``decide`` (``aggregate`` is re-exported)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from triage.critic.constitution import Constitution
from triage.critic.decide import aggregate
from triage.models import Paper, Sections, Verdict

__all__ = ["Critic", "aggregate"]


@runtime_checkable
class Critic(Protocol):
    """Judges one paper's abstract and conclusion against a constitution."""

    name: str
    """Which critic and model, recorded in every verdict, e.g. ``offline:all-MiniLM-L6-v2``."""

    @property
    def prompt_version(self) -> str:
        """Part of the verdict cache key: changing prompts (or, offline, the reader's decisions) invalidates verdicts."""
        ...

    def judge(self, paper: Paper, sections: Sections, constitution: Constitution) -> Verdict:
        """Return a verdict; raise NotJudged (a CriticError) when no verdict can honestly be given."""
        ...
