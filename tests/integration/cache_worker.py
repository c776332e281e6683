"""A separate process for tests/integration/test_cache_redis.py: one DatabaseManager whose
query cache is a shared Redis, driven by JSON lines on stdin, answering on stdout.

    python cache_worker.py DATABASE_URL REDIS_URL KEY_PREFIX TABLE

Commands: ``{"op": "read"}`` (the table's rows by id, through ``.cache()``: their
``repr``, which shows every value's type, and the statements that read sent, 0 for a
hit); ``{"op": "update", "id": 1, "label": "x", "tx": false}`` (answers once the write,
and its transaction when ``tx``, has returned); ``{"op": "begin_update", ...}`` (the same
write in a transaction left open) and ``{"op": "commit"}`` (answers once it has
returned); ``{"op": "quit"}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from jadugar import DatabaseManager, Transaction


async def serve(db_url: str, redis_url: str, prefix: str, table: str) -> None:
    cache = {"backend": redis_url, "key_prefix": prefix, "default_ttl": 60}
    async with DatabaseManager(url=db_url, cache=cache) as db:
        sent: list[str] = []
        db.on("query", lambda event: sent.append(event["sql"]))
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        print(json.dumps({"ready": True}), flush=True)
        held: Transaction | None = None
        while line := await reader.readline():
            command: dict[str, Any] = json.loads(line)
            op = command["op"]
            if op == "quit":
                break
            sent.clear()
            if op == "read":
                rows = await db.query.table(table).order_by("id").cache().all()
                metrics = db.cache_metrics()
                reply: dict[str, Any] = {
                    "rows": repr(rows),
                    "statements": len(sent),
                    "hits": metrics.hits,
                    "misses": metrics.misses,
                }
            elif op == "update":
                change = {"label": command["label"]}
                if command.get("tx"):
                    async with db.transaction() as tx:
                        await tx.table(table).where({"id": command["id"]}).update(change)
                else:
                    await db.query.table(table).where({"id": command["id"]}).update(change)
                reply = {"ok": True}
            elif op == "begin_update":
                held = db.transaction()
                tx = await held.__aenter__()
                change = {"label": command["label"]}
                await tx.table(table).where({"id": command["id"]}).update(change)
                reply = {"ok": True}
            elif op == "commit" and held is not None:
                await held.__aexit__(None, None, None)
                held = None
                reply = {"ok": True}
            else:
                reply = {"error": f"unknown op {op!r}"}
            print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    asyncio.run(serve(*sys.argv[1:5]))
