"""The hybrid logical clock: monotonic, advances past what it observes, bounded counter, drift, wire form."""

from __future__ import annotations

import pytest

from fieldsync.sync import hlc as H
from fieldsync.sync.hlc import HlcClock


class Wall:
    """A fake physical clock the test sets by hand."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


T = 1_764_000_000_000


def test_pack_splits_into_wall_and_counter() -> None:
    """An HLC packs milliseconds in the high bits and the logical counter in the low 16."""
    stamp = H.pack(T, 7)
    assert H.wall_ms(stamp) == T and H.counter(stamp) == 7
    assert H.pack(T, 0) < H.pack(T, 1) < H.pack(T + 1, 0)


def test_tick_uses_physical_time_when_it_moves() -> None:
    """When the wall clock has moved on, a tick is that millisecond with counter 0."""
    wall = Wall(T)
    clock = HlcClock("s", now_ms=wall)
    assert clock.tick() == H.pack(T, 0)
    wall.ms += 5
    assert clock.tick() == H.pack(T + 5, 0)


def test_tick_is_strictly_monotonic_when_the_wall_clock_stalls_or_goes_back() -> None:
    """Ticks strictly increase even if the physical clock stands still or jumps backwards."""
    wall = Wall(T)
    clock = HlcClock("s", now_ms=wall)
    stamps = [clock.tick() for _ in range(3)]
    wall.ms -= 60_000  # NTP step backwards
    stamps += [clock.tick() for _ in range(3)]
    assert stamps == sorted(set(stamps))
    assert H.wall_ms(stamps[-1]) == T and H.counter(stamps[-1]) == 5


def test_counter_overflow_borrows_the_next_millisecond() -> None:
    """After 65,535 ticks in one millisecond the clock moves to the next millisecond rather than wrapping."""
    clock = HlcClock("s", now_ms=Wall(T), last=H.pack(T, H.MAX_COUNTER - 1))
    assert clock.tick() == H.pack(T, H.MAX_COUNTER)
    assert clock.tick() == H.pack(T + 1, 0)
    assert clock.tick() == H.pack(T + 1, 1)


def test_observe_moves_past_a_remote_stamp_from_the_future() -> None:
    """Observing a remote HLC ahead of us makes the next stamp greater than it."""
    clock = HlcClock("s", now_ms=Wall(T))
    remote = H.pack(T + 10_000, 3)
    after = clock.observe(remote)
    assert after > remote and clock.last == after
    assert clock.tick() > after


def test_observe_of_an_old_stamp_still_ticks() -> None:
    """Observing an older remote HLC is a receive event: the clock still advances."""
    clock = HlcClock("s", now_ms=Wall(T))
    first = clock.tick()
    assert clock.observe(H.pack(T - 100, 0)) > first


def test_restarted_clock_continues_from_its_last_value() -> None:
    """A clock rebuilt with ``last`` (persisted) never issues a stamp at or below it, even if time went back."""
    last = H.pack(T + 1000, 9)
    clock = HlcClock("s", now_ms=Wall(T), last=last)
    assert clock.tick() > last


def test_offset_corrects_the_physical_clock() -> None:
    """``offset_ms`` (the server offset from ``welcome``) shifts the physical time used for stamps."""
    clock = HlcClock("phone", now_ms=Wall(T + 86_400_000))  # a phone one day fast
    clock.offset_ms = -86_400_000
    assert clock.physical_ms() == T
    assert H.wall_ms(clock.tick()) == T


def test_drift_detection() -> None:
    """A stamp more than the allowed drift ahead of physical time is flagged; one within it is not."""
    clock = HlcClock("server", now_ms=Wall(T))
    assert not clock.is_too_far_ahead(H.pack(T + H.MAX_DRIFT_MS, 0))
    assert clock.is_too_far_ahead(H.pack(T + H.MAX_DRIFT_MS + 1, 0))
    assert clock.is_too_far_ahead(H.pack(T + 61_000, 0), max_drift_ms=60_000)
    assert not clock.is_too_far_ahead(H.pack(T - 10**9, 0))


def test_parse_and_format_round_trip() -> None:
    """The wire form is a decimal string, and parse reads it (and plain ints) back exactly."""
    stamp = H.pack(T, 12)
    assert H.format_hlc(stamp) == str(stamp)
    assert H.parse(H.format_hlc(stamp)) == stamp
    assert H.parse(stamp) == stamp
    assert H.parse("0") == 0
    assert H.parse(str((1 << 63) - 1)) == (1 << 63) - 1


@pytest.mark.parametrize(
    "bad",
    [True, False, -1, 1 << 63, "", "-1", "1.5", "12a", " 12", "１２", "9" * 21, str(1 << 63), None, 1.0, [1], {"h": 1}],
)
def test_parse_refuses_anything_but_a_non_negative_63_bit_integer(bad: object) -> None:
    """Booleans, negatives, floats, non-ASCII digits, overlong or out-of-range values are not HLCs."""
    with pytest.raises(ValueError):
        H.parse(bad)


def test_system_clock_is_the_default() -> None:
    """Without an injected clock, stamps follow the system time in milliseconds."""
    before = H.system_ms()
    stamp = HlcClock("s").tick()
    assert before <= H.wall_ms(stamp) <= H.system_ms()
