"""How many rows go into each multi-row SQL statement (the server's store and the SDK's replica).

Both write rows as ``INSERT ... VALUES (...), (...)`` statements rather than
with ``executemany``: Python's sqlite3 driver releases the GIL at every step
of a statement and ``executemany`` steps once per row, so beside a busy
thread each row could wait a switch interval (5 ms) for the GIL
(``docs/decisions.md``). A statement holds at most ``MAX_ROWS_PER_STATEMENT``
rows and ``MAX_PARAMETERS`` parameters; chunk sizes are powers of two, so a
table has a handful of statement texts in the drivers' statement caches.
Pure arithmetic: no I/O here.
"""

from __future__ import annotations

#: Rows per multi-row statement (and never more than ``MAX_PARAMETERS`` parameters).
MAX_ROWS_PER_STATEMENT = 512
#: SQLite's default bound on a statement's parameters (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
MAX_PARAMETERS = 32766


def chunks(count: int, width: int) -> list[tuple[int, int]]:
    """(start, size) of the statements that insert ``count`` rows of ``width`` parameters.

    Full chunks of the largest allowed size, then the remainder as powers of two.
    """
    most = max(1, min(MAX_ROWS_PER_STATEMENT, MAX_PARAMETERS // width))
    out = []
    start = 0
    while start < count:
        left = count - start
        size = most if left >= most else 1 << (left.bit_length() - 1)
        out.append((start, size))
        start += size
    return out


__all__ = ["MAX_PARAMETERS", "MAX_ROWS_PER_STATEMENT", "chunks"]
