"""The shared retry helper: Retry-After, backoff, and the circuit breaker (pure logic, a fake clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from triage.retry import CircuitBreaker, backoff_s, breaker_for, retry_after_s


def test_retry_after_forms():
    assert retry_after_s({"retry-after": "2"}) == 2.0
    assert retry_after_s({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    now = datetime(2026, 3, 3, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_s({"retry-after": later}, now=now) == 30.0
    assert retry_after_s({"retry-after": format_datetime(now - timedelta(seconds=5), usegmt=True)}, now=now) == 0.0
    assert retry_after_s({"retry-after": "soon"}) is None and retry_after_s({}) is None and retry_after_s(None) is None
    assert retry_after_s({"retry-after": "-5"}) == 0.0


def test_backoff_is_exponential_capped_with_jitter_on_top():
    assert [backoff_s(a, 1.0, jitter=False) for a in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff_s(10, 1.0, cap_s=30.0, jitter=False) == 30.0
    # The jitter is up to half the delay again: the draw's range is what is checked, not a random outcome.
    draws = []
    assert backoff_s(1, 1.0, uniform=lambda low, high: draws.append((low, high)) or high) == 3.0
    assert backoff_s(1, 1.0, uniform=lambda low, high: low) == 2.0 and draws == [(0, 1.0)]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_n_failures_in_a_row_and_a_success_resets():
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, cooldown_s=60, clock=clock)
    assert not breaker.failure("HTTP 500") and not breaker.failure("HTTP 500")
    breaker.success()
    assert not breaker.failure("HTTP 500") and not breaker.failure("HTTP 500")
    assert breaker.failure("HTTP 502") and breaker.is_open and not breaker.allow()
    assert breaker.reason == "3 failed calls in a row, the last: HTTP 502"
    assert not breaker.failure("HTTP 500")  # already open: calls in flight failing do not reopen it


def test_two_timeouts_in_a_row_open_it_whatever_the_threshold():
    breaker = CircuitBreaker(threshold=10, clock=Clock())
    assert not breaker.failure("timed out", timeout=True)
    assert breaker.failure("timed out", timeout=True) and breaker.is_open


def test_half_open_lets_one_trial_through_and_a_failed_trial_waits_again():
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown_s=60, clock=clock)
    breaker.failure("connection refused")
    clock.now = 59
    assert not breaker.allow()
    clock.now = 61
    assert breaker.allow() and not breaker.allow()  # one trial call at a time
    breaker.failure("connection refused")
    assert not breaker.allow()
    clock.now = 122
    assert breaker.allow()
    breaker.success()
    assert breaker.allow() and breaker.allow() and not breaker.is_open


def test_one_breaker_per_endpoint_with_the_latest_settings():
    a = breaker_for(("test-endpoint-a",), 3, 60)
    assert breaker_for(("test-endpoint-a",), 5, 10) is a and (a.threshold, a.cooldown_s) == (5, 10)
    assert breaker_for(("test-endpoint-b",), 3, 60) is not a
