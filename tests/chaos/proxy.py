"""A small asyncio TCP proxy on loopback for partition tests.

``PartitionProxy(host, port)`` listens on ``127.0.0.1:<free port>`` and forwards to the real
server. Modes: ``pass`` (forward), ``blackhole`` (keep every connection open, new ones too,
but forward no byte either way), ``cut`` (close every client connection now and close new
ones on accept). ``heal()`` returns to ``pass``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum


class Mode(enum.Enum):
    PASS = "pass"
    BLACKHOLE = "blackhole"
    CUT = "cut"


_CHUNK = 65536


class PartitionProxy:
    """Loopback proxy to ``(host, port)`` whose link can be stalled or cut."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._mode = Mode.PASS
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter | None]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.accepted = 0

    @property
    def mode(self) -> Mode:
        return self._mode

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._cut_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def blackhole(self) -> None:
        self._mode = Mode.BLACKHOLE
        self._flowing.clear()

    def cut(self) -> None:
        self._mode = Mode.CUT
        self._flowing.clear()
        self._cut_all()

    def heal(self) -> None:
        self._mode = Mode.PASS
        self._flowing.set()

    # -- internals

    def _cut_all(self) -> None:
        for client, upstream in list(self._links):
            _abort(client)
            if upstream is not None:
                _abort(upstream)
        self._links.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self._mode is Mode.CUT:
            _abort(writer)
            return
        link: tuple[asyncio.StreamWriter, asyncio.StreamWriter | None] = (writer, None)
        self._links.add(link)
        try:
            await self._flowing.wait()  # a blackholed accept forwards nothing, not even a connect
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except (OSError, asyncio.CancelledError):
            self._links.discard(link)
            _abort(writer)
            return
        if link not in self._links:  # cut while connecting
            _abort(up_writer)
            return
        self._links.discard(link)
        link = (writer, up_writer)
        self._links.add(link)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(source, sink, link))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        link: tuple[asyncio.StreamWriter, asyncio.StreamWriter | None],
    ) -> None:
        try:
            while True:
                data = await source.read(_CHUNK)
                if not data:
                    break
                await self._flowing.wait()  # blackholed: the bytes are held, not forwarded
                if link not in self._links:
                    break
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._links.discard(link)
            for writer in link:
                if writer is not None:
                    _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close at once (a reset, not a graceful FIN after buffered bytes)."""
    with contextlib.suppress(Exception):
        writer.transport.abort()
