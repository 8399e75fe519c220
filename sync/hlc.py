"""Hybrid logical clock.

Theory of operation
-------------------
A hybrid logical clock (Kulkarni, Demirbas et al., "Logical Physical Clocks and
Consistent Snapshots in Globally Distributed Databases", 2014) pairs the
largest physical time seen so far with a logical counter. It never goes
backwards, it advances past every timestamp it observes, and it stays within
the clock skew of physical time. So when one edit causally follows another
(the second writer had seen the first), the second edit's HLC is strictly
greater, whatever the devices' wall clocks say.

An HLC value is one integer: milliseconds since the Unix epoch in the high
48 bits and a 16-bit logical counter in the low bits. Integers compare in the
right order, index well in SQL, and travel on the wire as decimal strings
(JSON numbers lose precision past 2**53).

The clock is a plain object with an injectable ``now_ms`` function: tests pass
a fake clock instead of patching ``time``. The SDK passes a clock corrected by
the server's time offset (see ``docs/conflicts.md``) so that a phone whose
clock is a day fast does not win every last-writer-wins conflict for a day.
"""

from __future__ import annotations

import time
from collections.abc import Callable

COUNTER_BITS = 16
COUNTER_MASK = (1 << COUNTER_BITS) - 1
MAX_COUNTER = COUNTER_MASK
#: An HLC more than this far ahead of the receiver's physical clock is refused.
MAX_DRIFT_MS = 7 * 24 * 3600 * 1000


def pack(wall_ms: int, counter: int) -> int:
    """Combine physical milliseconds and a logical counter into one HLC integer."""
    return (wall_ms << COUNTER_BITS) | counter


def wall_ms(hlc: int) -> int:
    """The physical part (milliseconds since the epoch) of an HLC."""
    return hlc >> COUNTER_BITS


def counter(hlc: int) -> int:
    """The logical part of an HLC."""
    return hlc & COUNTER_MASK


def parse(text: object) -> int:
    """Read an HLC from its wire form (a decimal string; ints are accepted too).

    Raises ``ValueError`` for anything that is not a non-negative 64-bit integer.
    """
    if isinstance(text, bool):
        raise ValueError("an HLC is not a boolean")
    if isinstance(text, int):
        value = text
    elif isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 20:
        value = int(text)
    else:
        raise ValueError(f"not an HLC: {text!r}")
    if not 0 <= value < 1 << 63:
        raise ValueError("HLC out of range")
    return value


def format_hlc(hlc: int) -> str:
    """The wire form of an HLC."""
    return str(hlc)


def system_ms() -> int:
    """Milliseconds since the epoch from the system clock."""
    return time.time_ns() // 1_000_000


class HlcClock:
    """A hybrid logical clock for one site.

    ``now_ms`` is the physical clock (a callable returning milliseconds);
    ``offset_ms`` corrects it, e.g. by the server time offset learned at
    ``welcome``.
    """

    __slots__ = ("_last", "_now_ms", "offset_ms", "site")

    def __init__(self, site: str, *, now_ms: Callable[[], int] = system_ms, last: int = 0) -> None:
        self.site = site
        self._now_ms = now_ms
        self._last = last
        self.offset_ms = 0

    @property
    def last(self) -> int:
        """The greatest HLC issued or observed so far."""
        return self._last

    def physical_ms(self) -> int:
        """The corrected physical time."""
        return self._now_ms() + self.offset_ms

    def tick(self) -> int:
        """Issue a new HLC for a local event; strictly greater than any before."""
        physical = self.physical_ms()
        last_wall = wall_ms(self._last)
        if physical > last_wall:
            self._last = pack(physical, 0)
        elif counter(self._last) < MAX_COUNTER:
            self._last += 1
        else:  # counter exhausted within one millisecond: borrow the next one
            self._last = pack(last_wall + 1, 0)
        return self._last

    def observe(self, remote: int) -> int:
        """Advance past a received HLC (receive event); returns the new clock value."""
        if remote > self._last:
            self._last = remote
        return self.tick()

    def relabeled(self, last: int) -> None:
        """Set the clock after this replica's writes beyond a hub's reach were relabeled (``sync/relabel.py``).

        The one time a clock may move back: the stamps it passes over were
        never accepted anywhere, and the relabeled writes now end at ``last``.
        """
        self._last = last

    def is_too_far_ahead(self, remote: int, max_drift_ms: int = MAX_DRIFT_MS) -> bool:
        """True when ``remote`` lies more than ``max_drift_ms`` ahead of our physical time."""
        return wall_ms(remote) - self.physical_ms() > max_drift_ms


__all__ = [
    "MAX_DRIFT_MS",
    "HlcClock",
    "counter",
    "format_hlc",
    "pack",
    "parse",
    "system_ms",
    "wall_ms",
]
