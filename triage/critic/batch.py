"""Judging many papers at once: bounded concurrency, a cost budget, failures kept apart.

``judge_batch`` runs ``critic.judge`` for each paper in a pool of worker threads under an
``asyncio.Semaphore`` (default ``settings.llm.concurrency`` = 8 papers in
flight; each paper is its judge and revision calls, in order).  The critic's
HTTP client blocks, so threads do the waiting and the event loop only
schedules; results come back on the calling thread, where ``on_result`` runs
(the service saves verdicts there, so SQLite is written from one thread).

A paper that fails — malformed answers after the repair, an endpoint that
stays down — is reported with its reason and the batch goes on.

``Budget`` caps the run's cost.  Before a paper's first call the critic
reserves an upper estimate of what the paper will cost (from the prompt length
and the completion limit); when that reservation would take spent + reserved
past ``max_cost_usd`` the paper is not started, the budget is closed, and every
paper not yet started is marked ``budget`` (not judged).  So the run stops
*before* exceeding the cap, never after; the actual cost replaces the estimate
when a paper finishes.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from triage.critic.base import Critic
from triage.critic.constitution import Constitution
from triage.errors import EXIT_USER, BudgetExceeded, TriageError
from triage.models import Paper, Sections, Verdict

__all__ = ["Budget", "BatchResult", "judge_batch", "judge_batch_async"]


class Budget:
    """A per-run cost cap in USD, shared by the papers of a batch (thread-safe)."""

    def __init__(self, max_cost_usd: float | None = None) -> None:
        self.max_cost_usd = max_cost_usd
        self.spent = 0.0
        self.reserved = 0.0
        self.exhausted = False
        self._lock = threading.Lock()

    def reserve(self, estimate: float, key: str = "") -> float:
        """Hold ``estimate`` for one paper; BudgetExceeded (and the budget closes) if it does not fit."""
        with self._lock:
            if self.max_cost_usd is not None:
                if self.exhausted:
                    raise BudgetExceeded(f"@{key} not judged: the run's budget of ${self.max_cost_usd:g} is used up")
                if self.spent + self.reserved + estimate > self.max_cost_usd:
                    self.exhausted = True
                    raise BudgetExceeded(
                        f"@{key} not judged: its estimated ${estimate:.4f} would take the run past the "
                        f"${self.max_cost_usd:g} budget (${self.spent:.4f} spent)",
                        hint="raise --max-cost, or run again later: judged papers are cached",
                    )
            self.reserved += estimate
            return estimate

    def close(self) -> None:
        """Refuse every paper not started yet (an endpoint taken as down, say), cap or no cap."""
        with self._lock:
            if self.max_cost_usd is None:
                self.max_cost_usd = self.spent + self.reserved
            self.exhausted = True

    def settle(self, reservation: float, actual: float) -> None:
        """Replace a reservation with what the paper actually cost."""
        with self._lock:
            self.reserved = max(0.0, self.reserved - reservation)
            self.spent += actual


@dataclass
class BatchResult:
    """What became of one paper: ``ok`` with a verdict, ``error`` with the reason, or ``budget`` (not judged)."""

    key: str
    status: Literal["ok", "error", "budget"]
    verdict: Verdict | None = None
    error: str = ""
    cached: bool = False
    exit_code: int = 0  # for a failure: the CLI's code (3 when the endpoint failed, 1 otherwise)

    @property
    def ok(self) -> bool:
        """True when the paper has a verdict."""
        return self.status == "ok"


def _judge(critic: Critic, paper: Paper, sections: Sections, constitution: Constitution, budget: Budget | None) -> Verdict:
    if budget is not None and "budget" in inspect.signature(critic.judge).parameters:
        return critic.judge(paper, sections, constitution, budget=budget)  # type: ignore[call-arg]
    if budget is not None and budget.exhausted and budget.max_cost_usd is not None:
        # A critic that costs nothing still stops with the rest, so "the rest" means the same for every critic.
        raise BudgetExceeded(f"@{paper.key} not judged: the run's budget of ${budget.max_cost_usd:g} is used up")
    return critic.judge(paper, sections, constitution)


async def judge_batch_async(
    items: list[tuple[Paper, Sections]],
    critic: Critic,
    constitution: Constitution,
    *,
    concurrency: int = 8,
    budget: Budget | None = None,
    on_result: Callable[[BatchResult], None] | None = None,
) -> list[BatchResult]:
    """Judge every (paper, sections) with at most ``concurrency`` in flight; results in input order."""
    concurrency = max(1, concurrency)
    semaphore = asyncio.Semaphore(concurrency)
    loop = asyncio.get_running_loop()
    # Our own pool: asyncio's default one has min(32, cpus + 4) threads, which would
    # quietly cap the concurrency on a small machine.
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="triage-critic")

    async def one(paper: Paper, sections: Sections) -> BatchResult:
        async with semaphore:
            try:
                verdict = await loop.run_in_executor(pool, _judge, critic, paper, sections, constitution, budget)
                result = BatchResult(key=paper.key, status="ok", verdict=verdict)
            except BudgetExceeded as exc:
                result = BatchResult(key=paper.key, status="budget", error=str(exc))
            except TriageError as exc:
                result = BatchResult(key=paper.key, status="error", error=str(exc), exit_code=exc.exit_code)
            except Exception as exc:  # one paper's surprise must not sink the batch
                result = BatchResult(key=paper.key, status="error", error=f"{type(exc).__name__}: {exc}",
                                     exit_code=EXIT_USER)
        if on_result is not None:
            on_result(result)
        return result

    try:
        return list(await asyncio.gather(*(one(p, s) for p, s in items)))
    finally:
        # Papers not started yet are dropped (a ctrl-c must not wait for the rest of the batch to be judged).
        pool.shutdown(wait=False, cancel_futures=True)


def _run(coro: Coroutine[Any, Any, list[BatchResult]]) -> list[BatchResult]:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Called from inside an event loop (an async web handler): run ours in a thread.
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="triage-batch")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def judge_batch(
    items: list[tuple[Paper, Sections]],
    critic: Critic,
    constitution: Constitution,
    *,
    concurrency: int = 8,
    budget: Budget | None = None,
    on_result: Callable[[BatchResult], None] | None = None,
) -> list[BatchResult]:
    """Blocking wrapper around ``judge_batch_async`` for synchronous callers (the service, the CLI)."""
    return _run(
        judge_batch_async(items, critic, constitution, concurrency=concurrency, budget=budget, on_result=on_result)
    )
