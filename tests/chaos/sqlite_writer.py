"""The writer that ``test_sqlite_kill9.py`` kills: ``python sqlite_writer.py PATH SEED``.

It imports Jadugar, then waits for one line on stdin (so the parent can start the next
writer while the current one still runs, and only the opening of the file is timed), opens
``sqlite:///PATH`` with ``DatabaseManager`` and its defaults (WAL, ``synchronous =
NORMAL``), and writes groups of 1 to 50 rows, each group in one ``db.transaction(fn)``,
numbered on from the highest group already in the file. On stdout, one line each,
flushed:

- ``ready <first group> <journal mode> <synchronous>`` once the table is there;
- ``B <group>`` when a group's transaction has begun (its first statement not yet sent);
- ``C <group>`` once ``transaction(fn)`` has returned: the report that the group is
  committed.

It never stops on its own: the parent ends it with SIGKILL (or by closing stdin before the
go line).
"""

from __future__ import annotations

import asyncio
import random
import sys

from jadugar import DatabaseManager, Transaction

TABLE = "kill9_rows"
DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (grp INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " size INTEGER NOT NULL, PRIMARY KEY (grp, seq))"
)
MAX_GROUP = 50
PAUSE_CHANCE = 0.05  # a row followed by a 1 ms pause: transactions that stay open longer


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def write_groups(path: str, rng: random.Random) -> None:
    db = DatabaseManager(url=f"sqlite:///{path}")
    await db.connect()
    await db.query.raw(DDL).execute()
    top = await db.query.raw(f"SELECT COALESCE(MAX(grp), 0) AS top FROM {TABLE}").first()
    journal = await db.query.raw("PRAGMA journal_mode").first()
    synchronous = await db.query.raw("PRAGMA synchronous").first()
    assert top is not None and journal is not None and synchronous is not None
    group = int(top["top"])
    say(f"ready {group + 1} {journal['journal_mode']} {synchronous['synchronous']}")
    while True:
        group += 1
        size = rng.randint(1, MAX_GROUP)

        async def write(tx: Transaction, group: int = group, size: int = size) -> None:
            say(f"B {group}")
            for seq in range(size):
                await tx.table(TABLE).insert({"grp": group, "seq": seq, "size": size})
                if rng.random() < PAUSE_CHANCE:
                    await asyncio.sleep(0.001)

        await db.transaction(write)
        say(f"C {group}")


def main() -> None:
    path, seed = sys.argv[1], int(sys.argv[2])
    if not sys.stdin.readline():  # the parent went away before the go line
        return
    asyncio.run(write_groups(path, random.Random(seed)))


if __name__ == "__main__":
    main()
