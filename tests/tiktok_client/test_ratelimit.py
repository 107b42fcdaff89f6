"""The rate limiter keeps every sliding 1-second and 60-second window within the app's quota."""

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiktok_client.ratelimit import EASE_AFTER, TIERS, RateLimiter


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
            st.just(("throttled", 0.0)),
        ),
        max_size=80,
    ),
)
def test_any_mix_of_sends_waits_pauses_and_40100s_keeps_both_windows(qps, extra_per_minute, steps):
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
        elif op == "throttled":
            rl.throttled(times[-1] if times else None)
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


# -- after a 40100: a short pause, and a margin that widens and eases back -------------------


def basic(fake: FakeTime, **kwargs) -> RateLimiter:
    """The app's limiter at the Basic tier: paced, a 20 ms margin."""
    return RateLimiter(10, 600, clock=fake.clock, sleep=fake.sleep, margin=0.02, burst=1,
                       **kwargs)


@pytest.mark.parametrize(("qps", "pause"), [(10, 0.2), (20, 0.1), (50, 0.1), (1, 1.0)])
def test_a_40100_pauses_the_app_about_two_request_intervals_of_its_tier(qps, pause):
    fake = FakeTime(start=0.0)
    rl = RateLimiter(qps, 60 * qps, clock=fake.clock, sleep=fake.sleep, burst=1)
    sent = rl.acquire()

    assert rl.throttled(sent) == pytest.approx(pause)
    # every acquirer waits it out (or the paced interval, now 20 ms wider, when that is longer)
    assert rl.acquire() == pytest.approx(max(pause, 1.02 / qps))


def test_a_limiter_that_sends_a_seconds_quota_at_once_pauses_a_whole_second():
    fake = FakeTime(start=0.0)
    rl = RateLimiter(10, 600, clock=fake.clock, sleep=fake.sleep)  # burst: all 10 at once

    assert rl.throttled(rl.acquire()) == pytest.approx(1.0)


def test_each_40100_widens_the_margin_a_step_up_to_the_cap():
    fake = FakeTime(start=0.0)
    rl = basic(fake)
    margins = []
    for _ in range(6):
        rl.throttled(rl.acquire())
        margins.append(rl.margin)

    assert margins == pytest.approx([0.04, 0.06, 0.08, 0.10, 0.10, 0.10])


def test_40100s_of_one_crowded_moment_widen_the_margin_once():
    fake = FakeTime(start=0.0)
    rl = basic(fake)
    in_flight = [rl.acquire() for _ in range(3)]  # all sent before TikTok said anything

    pauses = [rl.throttled(sent) for sent in in_flight]

    assert rl.margin == pytest.approx(0.04)
    assert pauses == pytest.approx([0.2, 0.2, 0.2])
    rl.throttled(rl.acquire())  # sent after the widening, and still too many: one step more
    assert rl.margin == pytest.approx(0.06)


def test_the_pause_doubles_while_40100s_keep_coming_and_never_passes_a_second():
    fake = FakeTime(start=0.0)
    rl = basic(fake)

    pauses = [rl.throttled(rl.acquire()) for _ in range(5)]

    assert pauses == pytest.approx([0.2, 0.4, 0.8, 1.0, 1.0])


def test_the_margin_eases_back_a_step_for_every_quiet_period_down_to_the_base():
    fake = FakeTime(start=0.0)
    rl = basic(fake)
    for _ in range(3):
        rl.throttled(rl.acquire())
    last = fake.now
    assert rl.margin == pytest.approx(0.08)

    fake.now = last + EASE_AFTER - 0.1
    assert rl.margin == pytest.approx(0.08)
    fake.now = last + EASE_AFTER + 0.01
    assert rl.margin == pytest.approx(0.06)
    fake.now = last + 2 * EASE_AFTER + 0.01
    assert rl.margin == pytest.approx(0.04)
    fake.now = last + 100 * EASE_AFTER
    assert rl.margin == pytest.approx(0.02)  # never below the margin it was made with
    assert rl.throttled(rl.acquire()) == pytest.approx(0.2)  # and the pause is short again


def test_a_40100_during_a_quiet_period_starts_it_again():
    fake = FakeTime(start=0.0)
    rl = basic(fake)
    rl.throttled(rl.acquire())
    fake.now += EASE_AFTER - 1
    rl.throttled(rl.acquire())  # 0.06 now
    last = fake.now
    fake.now = last + EASE_AFTER - 0.5

    assert rl.margin == pytest.approx(0.06)
    fake.now = last + EASE_AFTER + 0.01
    assert rl.margin == pytest.approx(0.04)


def test_a_widened_margin_paces_the_sends_further_apart():
    fake = FakeTime(start=0.0)
    rl = basic(fake)
    assert [rl.acquire() for _ in range(3)] == pytest.approx([0.0, 0.102, 0.204])

    rl.throttled(0.204)  # at 0.204: a pause of 0.2, then one send every 0.104 s
    times = [rl.acquire() for _ in range(3)]

    assert times == pytest.approx([0.404, 0.508, 0.612])


def test_a_widened_margin_keeps_both_windows_from_many_threads():
    fake = FakeTime(start=0.0)
    rl = RateLimiter(10, 40, clock=fake.clock, sleep=fake.sleep, burst=1, ease_after=1000)
    rl.throttled(rl.acquire())
    rl.throttled(rl.acquire())

    times = run_threads(rl, threads=5, per_thread=12)

    assert max_in_window(times, 1.04) <= 10  # windows 40 ms wider than TikTok's
    assert max_in_window(times, 60.04) <= 40


def test_adapting_can_be_turned_off():
    fake = FakeTime(start=0.0)
    rl = basic(fake, margin_step=0.0)

    for _ in range(3):
        assert rl.throttled(rl.acquire()) == pytest.approx(0.2)
    assert rl.margin == pytest.approx(0.02)
