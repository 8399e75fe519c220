"""A TCP proxy that mistreats connections, for fault tests and demos (loopback only).

``ChaosProxy(upstream_port)`` listens on 127.0.0.1 and forwards to the
upstream port, adding latency to every chunk, cutting connections after a
random number of bytes and refusing some connections outright, all from a
seeded random generator. ``calm()`` turns the faults off so a test can check
that everything converges once the network recovers.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass


@dataclass
class Faults:
    """How badly to treat connections."""

    latency_s: tuple[float, float] = (0.0, 0.03)
    cut_after_bytes: tuple[int, int] = (2_000, 60_000)
    cut_probability: float = 0.5
    refuse_probability: float = 0.1


class ChaosProxy:
    """A fault-injecting TCP proxy running in its own thread."""

    def __init__(self, upstream_port: int, *, faults: Faults | None = None, seed: int = 0) -> None:
        self.upstream_port = upstream_port
        self.faults = faults or Faults()
        self.rng = random.Random(seed)
        self.port = 0
        self.cuts = 0
        self.refused = 0
        self._calm = False
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._run, name="chaos-proxy", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def calm(self) -> None:
        """Stop injecting faults (existing connections keep their fate)."""
        self._calm = True

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._calm and self.rng.random() < self.faults.refuse_probability:
            self.refused += 1
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        budget = None
        if not self._calm and self.rng.random() < self.faults.cut_probability:
            budget = [self.rng.randint(*self.faults.cut_after_bytes)]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(16384):
                    if not self._calm:
                        await asyncio.sleep(self.rng.uniform(*self.faults.latency_s))
                    if budget is not None and not self._calm:
                        budget[0] -= len(data)
                        if budget[0] <= 0:
                            self.cuts += 1
                            break
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                for w in (writer, up_writer):
                    w.close()
                    self._writers.discard(w)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)

    def close(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for w in list(self._writers):
                w.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


__all__ = ["ChaosProxy", "Faults"]
