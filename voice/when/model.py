"""Values returned by the date/time resolver.

A ``When`` is either a point (``end is None``) or an interval ``[start, end)``
whose bounds are timezone-aware datetimes in the reference's zone.  ``grain``
tells how precise the expression was ("minute", "hour", "day", "week",
"month", "year", ...): "next Tuesday" is a point of grain "day" at
00:00 of that Tuesday, "next week" an interval of grain "week".

Durations ("for two hours") carry ``duration`` (their ``start`` is the reference);
recurring sets ("every
Monday") carry ``recurrence`` (an ISO-8601-like rule text such as
``"P1W"``) together with the first occurrence in ``start``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["When", "GRAINS", "KINDS"]

GRAINS = ("second", "minute", "hour", "part_of_day", "day", "week", "weekend",
          "month", "quarter", "season", "half_year", "year", "decade", "century")
KINDS = ("point", "interval", "duration", "set")


@dataclass(frozen=True, slots=True)
class When:
    """One resolved time expression.

    ``start``/``end`` are aware datetimes in the reference's zone; ``end`` is
    exclusive and ``None`` for a point.  ``span`` is ``(begin, end)`` character
    offsets of ``text`` in the input.  ``kind`` is one of ``KINDS``.
    """

    start: datetime
    end: datetime | None
    grain: str
    text: str
    span: tuple[int, int]
    kind: str = "point"
    duration: timedelta | None = None
    recurrence: str | None = None

    @property
    def is_interval(self) -> bool:
        """True when the expression denotes a stretch of time rather than a moment."""
        return self.end is not None
