"""Run a coroutine right away, and only give it a task if it has to wait.

Fan-out writes one frame to each of up to thousands of connections per
commit. Waking a task per connection costs more than the write itself, and
almost every write completes without waiting: the socket takes the bytes at
once. ``start_eagerly`` steps the coroutine in place; if it finishes, that
was all; if it suspends (the socket is backed up and the ASGI server waits
for it to drain), a task takes over from where it stopped, so a slow device
never holds up the loop that is serving the others.

This is what ``asyncio.eager_task_factory`` does on Python 3.12+; written out
here because FieldSync supports 3.11.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def start_eagerly(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
    """Run ``coro`` until it completes (returns None) or first waits (returns the task finishing it).

    An exception raised before the first wait propagates to the caller.
    """
    try:
        waiting_on = coro.send(None)
    except StopIteration:
        return None
    task = asyncio.ensure_future(_resume(coro, waiting_on))
    # Cancelled before its first step, the task never reaches ``coro``: close it, so its cleanup (locks) runs.
    task.add_done_callback(lambda t: coro.close() if t.cancelled() else None)
    return task


async def _resume(coro: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
    """Drive ``coro`` the way a task would, from a point where it yielded ``waiting_on``."""
    while True:
        try:
            if waiting_on is None:  # a bare yield: give the loop one turn
                await asyncio.sleep(0)
            else:
                # What a task does with a future its coroutine yields: take the "blocking" mark off,
                # then wait on it (awaiting a future still marked raises "await wasn't used with future").
                waiting_on._asyncio_future_blocking = False
                await waiting_on
        except BaseException as exc:  # noqa: BLE001 - everything, cancellation included, goes to the coroutine
            try:
                waiting_on = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting_on = coro.send(None)
        except StopIteration:
            return


__all__ = ["start_eagerly"]
