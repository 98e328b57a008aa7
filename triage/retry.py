"""Retrying remote calls politely, and giving up on an endpoint that is down.

One policy for every remote service triage talks to (the LLM endpoint, arXiv):

* ``retry_after_s`` reads how long a server asks us to wait — ``retry-after-ms``
  (OpenAI's), ``Retry-After`` in seconds or as an HTTP date;
* ``backoff_s`` is exponential backoff with optional jitter on top, so parallel
  callers do not retry in lockstep;
* ``CircuitBreaker`` stops calling an endpoint after several failures in a row.
  Retries make one flaky call succeed; the breaker makes a dead endpoint cost
  seconds instead of minutes per paper.  It is shared per endpoint
  (``breaker_for``), so every critic, batch and TUI action in the process sees the
  same state, and it half-opens after a cool-down: one trial call decides whether
  the endpoint is back.

The breaker counts *calls*, not papers: with eight papers in flight against an
endpoint that hangs, the first eight timeouts open it and the papers' retries
stop at once.  Two timeouts in a row open it too, whatever the threshold: each
one already cost a whole per-call timeout, so a third would take the run past
three timeouts before it stops.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

__all__ = ["retry_after_s", "backoff_s", "CircuitBreaker", "breaker_for", "TIMEOUTS_TO_OPEN"]

TIMEOUTS_TO_OPEN = 2
"""Consecutive timeouts that open a breaker whatever its threshold (each one cost a full per-call timeout)."""


def retry_after_s(headers: Mapping[str, str] | None, *, now: datetime | None = None) -> float | None:
    """Seconds a server asks us to wait, from ``retry-after-ms`` or ``Retry-After`` (seconds, or an HTTP date
    counted from ``now``, by default the present)."""
    headers = headers or {}
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_s(attempt: int, base_s: float, *, cap_s: float = 60.0, jitter: bool = True,
              uniform: Callable[[float, float], float] = random.uniform) -> float:
    """The wait before retry ``attempt`` (0-based): ``base_s * 2**attempt`` capped, plus up to half again as jitter
    (drawn by ``uniform``)."""
    delay = min(cap_s, base_s * (2**attempt))
    return delay + uniform(0, delay / 2) if jitter else delay


class CircuitBreaker:
    """Closed, open for ``cooldown_s`` after ``threshold`` failed calls in a row, then half-open.

    ``allow()`` says whether a call may go out now (in the half-open state only
    one trial call at a time does); ``success()`` closes the breaker and
    ``failure(timeout=...)`` counts one failed call.  ``reason`` says why it
    opened, for the "not judged: endpoint down (...)" message.
    """

    def __init__(self, threshold: int = 3, cooldown_s: float = 60.0, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = max(1, threshold)
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._timeouts = 0
        self._opened_at: float | None = None
        self._trial_out = False
        self.reason = ""

    @property
    def is_open(self) -> bool:
        """True while calls are refused (open, or half-open with the trial call out)."""
        with self._lock:
            return self._refuses()

    def _refuses(self) -> bool:
        if self._opened_at is None:
            return False
        if self._clock() - self._opened_at < self.cooldown_s:
            return True
        return self._trial_out

    def allow(self) -> bool:
        """May a call go out now?  In the half-open state the first caller gets the trial call."""
        with self._lock:
            if self._refuses():
                return False
            if self._opened_at is not None:
                self._trial_out = True
            return True

    def success(self) -> None:
        """The endpoint answered: close the breaker and forget the failures."""
        with self._lock:
            self._failures = self._timeouts = 0
            self._opened_at, self._trial_out, self.reason = None, False, ""

    def failure(self, why: str, *, timeout: bool = False) -> bool:
        """Count one failed call; True when this failure opened the breaker."""
        with self._lock:
            self._failures += 1
            self._timeouts = self._timeouts + 1 if timeout else 0
            if self._trial_out:  # the half-open trial failed: another cool-down
                self._opened_at, self._trial_out = self._clock(), False
                return False
            if self._opened_at is None and (self._failures >= self.threshold or self._timeouts >= TIMEOUTS_TO_OPEN):
                self._opened_at = self._clock()
                self.reason = f"{self._failures} failed calls in a row, the last: {why}"
                return True
            return False


_BREAKERS: dict[tuple[str, ...], CircuitBreaker] = {}
_BREAKERS_LOCK = threading.Lock()


def breaker_for(key: tuple[str, ...], threshold: int, cooldown_s: float) -> CircuitBreaker:
    """The process-wide breaker of one endpoint (e.g. ``(base_url, model)``), with the latest caller's settings."""
    with _BREAKERS_LOCK:
        breaker = _BREAKERS.get(key)
        if breaker is None:
            breaker = _BREAKERS[key] = CircuitBreaker(threshold, cooldown_s)
        breaker.threshold, breaker.cooldown_s = max(1, threshold), cooldown_s
        return breaker
