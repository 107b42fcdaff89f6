"""The rate limiter keeps every sliding 1-second and 60-second window within the app's quota."""

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiktok_client.ratelimit import TIERS, RateLimiter


class FakeTime:
    """A monotonic clock that only moves when someone sleeps; safe to share between threads."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(seconds, 0.0)


def max_in_window(times: list[float], window: float) -> int:
    """The largest number of times inside any half-open window [t, t + window)."""
    times = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


def limiter(fake: FakeTime, qps: float = 10, qpm: float = 600) -> RateLimiter:
    return RateLimiter(qps, qpm, clock=fake.clock, sleep=fake.sleep)


def test_sends_up_to_qps_at_once_then_waits_for_the_window_to_slide():
    fake = FakeTime(start=0.0)
    rl = limiter(fake, qps=2)

    times = [rl.acquire() for _ in range(6)]

    assert times == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]


def test_a_send_waits_only_as_long_as_the_oldest_send_in_the_window_needs():
    fake = FakeTime(start=0.0)
    rl = limiter(fake, qps=2)
    rl.acquire()
    fake.now = 0.4
    rl.acquire()
    fake.sleeps.clear()

    assert rl.acquire() == pytest.approx(1.0)
    assert fake.sleeps == [pytest.approx(0.6)]
    assert rl.acquire() == pytest.approx(1.4)


def test_the_per_minute_quota_holds_when_the_per_second_one_allows_more():
    fake = FakeTime(start=0.0)
    rl = limiter(fake, qps=100, qpm=3)

    times = [rl.acquire() for _ in range(7)]

    assert times == [0.0, 0.0, 0.0, 60.0, 60.0, 60.0, 120.0]


def test_sends_older_than_the_windows_no_longer_count():
    fake = FakeTime(start=0.0)
    rl = limiter(fake, qps=2, qpm=4)
    rl.acquire()
    rl.acquire()
    fake.now = 61.0

    assert [rl.acquire() for _ in range(2)] == [61.0, 61.0]
    assert fake.sleeps == []


def test_pause_holds_every_acquirer_until_it_ends():
    fake = FakeTime(start=0.0)
    rl = limiter(fake)

    rl.pause(1.5)

    assert rl.acquire() == 1.5
    assert rl.acquire() == 1.5


def test_a_shorter_pause_does_not_cut_a_longer_one():
    fake = FakeTime(start=0.0)
    rl = limiter(fake)

    rl.pause(5.0)
    rl.pause(1.0)

    assert rl.acquire() == 5.0


def test_an_expired_pause_costs_nothing():
    fake = FakeTime(start=0.0)
    rl = limiter(fake)
    rl.pause(1.0)
    fake.now = 2.0

    assert rl.acquire() == 2.0
    assert fake.sleeps == []


def test_tiers_match_tiktoks_published_limits():
    assert dict(TIERS) == {
        "basic": (10, 600),
        "advanced": (20, 1200),
        "premium": (30, 1800),
        "ultimate": (50, 3000),
    }
    rl = RateLimiter.for_tier("Premium")
    assert (rl.qps, rl.qpm) == (30, 1800)


def test_the_default_is_the_basic_tier():
    rl = RateLimiter()

    assert (rl.qps, rl.qpm) == (10, 600)


def test_an_unknown_tier_is_refused():
    with pytest.raises(ValueError, match="unknown tier"):
        RateLimiter.for_tier("platinum")


@pytest.mark.parametrize(("qps", "qpm"), [(0, 600), (10, 0), (-1, 600), (float("inf"), 600)])
def test_limits_must_be_positive_and_finite(qps, qpm):
    with pytest.raises(ValueError):
        RateLimiter(qps, qpm)


def run_threads(rl: RateLimiter, threads: int, per_thread: int) -> list[float]:
    times: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        start.wait()
        for _ in range(per_thread):
            sent_at = rl.acquire()
            with lock:
                times.append(sent_at)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in pool)
    return times


def test_many_threads_on_a_real_clock_never_exceed_qps_in_any_second():
    rl = RateLimiter(qps=20, qpm=10_000, clock=time.monotonic, sleep=time.sleep)

    times = run_threads(rl, threads=6, per_thread=6)

    assert len(times) == 36
    assert max_in_window(times, 1.0) <= 20
    assert max(times) - min(times) >= 1.0  # the 21st send had to wait


def test_many_threads_on_a_fake_clock_never_exceed_qpm_in_any_minute():
    fake = FakeTime(start=0.0)
    rl = limiter(fake, qps=1000, qpm=25)

    times = run_threads(rl, threads=6, per_thread=20)

    assert len(times) == 120
    assert max_in_window(times, 60.0) <= 25
    assert max_in_window(times, 1.0) <= 25


def test_many_threads_on_a_fake_clock_keep_both_windows_with_pauses_mixed_in():
    fake = FakeTime(start=0.0)
    rl = limiter(fake, qps=3, qpm=20)
    rl.pause(2.0)

    times = run_threads(rl, threads=5, per_thread=10)

    assert min(times) >= 2.0
    assert max_in_window(times, 1.0) <= 3
    assert max_in_window(times, 60.0) <= 20


@settings(max_examples=60, deadline=None)
@given(
    qps=st.integers(1, 5),
    extra_per_minute=st.integers(0, 20),
    steps=st.lists(
        st.one_of(
            st.just(("acquire", 0.0)),
            st.tuples(st.just("advance"), st.floats(0, 5)),
            st.tuples(st.just("pause"), st.floats(0, 3)),
        ),
        max_size=80,
    ),
)
def test_any_mix_of_sends_waits_and_pauses_keeps_both_windows(qps, extra_per_minute, steps):
    fake = FakeTime(start=0.0)
    qpm = qps + extra_per_minute
    rl = limiter(fake, qps=qps, qpm=qpm)
    times = []
    for op, amount in steps:
        if op == "acquire":
            called_at = fake.now
            sent_at = rl.acquire()
            assert sent_at >= called_at
            times.append(sent_at)
        elif op == "advance":
            fake.now += amount
        else:
            rl.pause(amount)

    assert max_in_window(times, 1.0) <= qps
    assert max_in_window(times, 60.0) <= qpm


def test_a_margin_widens_both_windows_to_absorb_network_jitter():
    fake = FakeTime(start=0.0)
    widened = RateLimiter(qps=2, qpm=3, clock=fake.clock, sleep=fake.sleep, margin=0.05)
    times = [widened.acquire() for _ in range(4)]
    assert times == pytest.approx([0.0, 0.0, 1.05, 60.05])


def test_a_burst_of_one_paces_the_sends_evenly_through_the_second():
    fake = FakeTime(start=0.0)
    paced = RateLimiter(qps=4, qpm=600, clock=fake.clock, sleep=fake.sleep, burst=1)

    times = [paced.acquire() for _ in range(6)]

    assert times == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0, 1.25])


@pytest.mark.parametrize("burst", [1, 2, 3, 7])
def test_any_burst_keeps_both_windows_from_many_threads(burst):
    fake = FakeTime(start=0.0)
    rl = RateLimiter(qps=10, qpm=40, clock=fake.clock, sleep=fake.sleep, burst=burst)

    times = run_threads(rl, threads=5, per_thread=12)

    assert max_in_window(times, 1.0) <= 10
    assert max_in_window(times, 60.0) <= 40
    assert max_in_window(times, 0.1 * burst) <= burst


def test_an_urgent_acquirer_goes_before_the_ones_already_waiting():
    rl = RateLimiter(qps=5, qpm=10_000, clock=time.monotonic, sleep=time.sleep, burst=1)
    order: list[str] = []
    lock = threading.Lock()
    go = threading.Barrier(5)

    def take(name: str, urgent: bool) -> None:
        go.wait()
        if urgent:
            time.sleep(0.05)  # arrives after the others are already waiting
        rl.acquire(urgent=urgent)
        with lock:
            order.append(name)

    rl.acquire()  # the next slot is 0.2 s away, so everyone below has to wait for it
    threads = [threading.Thread(target=take, args=(f"sync{i}", False)) for i in range(4)]
    threads.append(threading.Thread(target=take, args=("write", True)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)

    assert order[0] == "write"
    assert sorted(order[1:]) == ["sync0", "sync1", "sync2", "sync3"]
