"""``MigrationManager``: applies and rolls back migration files under the dialect's lock,
one transaction per migration where DDL is transactional, history in one table.

    manager = MigrationManager(MigrationOptions(directory="generated/migrations"), db)
    await manager.migrate()
    for status in await manager.get_status():
        print(status.name, status.state)
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..config import MigrationOptions
from ..errors import MigrationChecksumError, MigrationError
from ..manager import use_migrator
from ..migration_results import MigrationRun as MigrationRun  # re-exported
from ..query.query_builder import QueryBuilder
from ..query.writes import _returns_rows
from ..read_only import ensure_writable
from ..transaction import Transaction
from . import files as migration_files
from . import planner
from .dry_run import DryRunSession
from .history import History
from .planner import MigrationStatus

if TYPE_CHECKING:
    from ..manager import DatabaseManager
    from .migration import Migration

LOCK_NAME = "migrations"
TEMPLATE = '''"""{title}."""

from __future__ import annotations

from jadugar import QueryBuilder
from jadugar.migrations import Migration


class {cls}(Migration):
    async def up(self, db: QueryBuilder) -> None:
        pass

    async def down(self, db: QueryBuilder) -> None:
        pass
'''


class MigrationManager:
    """SPEC 6: ``migrate``, ``rollback``, ``reset``, ``refresh``, ``get_status``,
    ``get_pending``, ``get_executed``, ``create``; plus ``resolve`` for a migration that
    failed part-way where DDL is not transactional."""

    def __init__(
        self, options: MigrationOptions | None, db: DatabaseManager, *, lock_timeout: float = 60
    ) -> None:
        self.options = options or db.options.migrations
        self.db = db
        self.directory = Path(self.options.directory)
        self.lock_timeout = lock_timeout
        self.history = History(db.query, self.options.table_name)

    # ---- reading ---------------------------------------------------------------------
    async def get_status(self) -> list[MigrationStatus]:
        if not self.db.options.read_only:  # a read-only manager reads an existing history
            await self.history.ensure()
        states = planner.statuses(
            migration_files.discover(self.directory), await self.history.rows()
        )
        return states if self.options.sort_order == "asc" else states[::-1]

    async def get_pending(self) -> list[str]:
        return planner.pending(await self.get_status())

    async def get_executed(self) -> list[MigrationStatus]:
        return [s for s in await self.get_status() if s.state in ("applied", "changed")]

    # ---- applying --------------------------------------------------------------------
    async def migrate(self, *, dry_run: bool = False) -> list[MigrationRun]:
        """Apply every pending migration in name order, as one new batch."""
        ensure_writable(self.db, "migrate")
        async with self.db.dialect.migration_lock.hold(self.db, LOCK_NAME, self.lock_timeout):
            await self.history.ensure()
            found = migration_files.discover(self.directory)
            rows = await self.history.rows()
            states = planner.statuses(found, rows)
            problems = planner.blockers(states, str(self.directory))
            if problems:
                error = MigrationChecksumError if "edited" in problems[0] else MigrationError
                raise error("migrate refused:\n" + "\n".join(problems))
            todo = set(planner.pending(states))
            batch = max((r.batch for r in rows), default=0) + 1
            runs = []
            for file in found:
                if file.name in todo:
                    migration = migration_files.load(file)
                    runs.append(await self._apply(migration, file, batch, "up", dry_run))
            return runs

    async def rollback(self, steps: int = 1, *, dry_run: bool = False) -> list[MigrationRun]:
        """Run ``down`` of the last ``steps`` applied migrations, newest first."""
        if steps < 1:
            raise ValueError(f"rollback(steps) needs steps >= 1, got {steps}")
        ensure_writable(self.db, "rollback")
        async with self.db.dialect.migration_lock.hold(self.db, LOCK_NAME, self.lock_timeout):
            await self.history.ensure()
            by_name = {f.name: f for f in migration_files.discover(self.directory)}
            runs = []
            for row in planner.last_batches(await self.history.rows(), steps):
                file = by_name.get(row.name)
                if file is None:
                    raise MigrationError(
                        f"cannot roll back {row.name}: its file is missing from {self.directory}"
                    )
                migration = migration_files.load(file)
                runs.append(await self._apply(migration, file, row.batch, "down", dry_run))
            return runs

    async def reset(self, *, dry_run: bool = False) -> list[MigrationRun]:
        """Roll back every applied migration."""
        ensure_writable(self.db, "reset")
        applied = [s for s in await self.get_status() if s.state in ("applied", "changed")]
        if not applied:
            return []
        return await self.rollback(len(applied), dry_run=dry_run)

    async def refresh(self) -> list[MigrationRun]:
        """Reset, then migrate from scratch."""
        return [*await self.reset(), *await self.migrate()]

    async def resolve(self, name: str, *, applied: bool) -> None:
        """After repairing a part-applied migration by hand: record it as applied, or
        forget it (rolled back) so ``migrate`` runs it again."""
        ensure_writable(self.db, "resolve")
        await self.history.ensure()
        row = next((r for r in await self.history.rows() if r.name == name), None)
        if row is None or row.state != "partial":
            raise MigrationError(f"{name} is not a partially applied migration")
        if applied:
            file = next(
                (f for f in migration_files.discover(self.directory) if f.name == name), None
            )
            await self.history.mark_applied(name, file.checksum if file else row.checksum)
        else:
            await self.history.forget(name)

    def create(self, name: str) -> Path:
        """Write an empty migration ``NNNN_<name>.py`` (the next number) and return its path."""
        slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        if not slug:
            raise MigrationError(f"{name!r} is not a usable migration name")
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{next_number(self.directory):04d}_{slug}.py"
        title = slug.replace("_", " ").capitalize()
        cls = "".join(part.capitalize() for part in slug.split("_"))
        if not cls[0].isalpha():
            cls = f"Migration{cls}"
        path.write_text(TEMPLATE.format(title=title, cls=cls))
        return path

    # ---- one migration ---------------------------------------------------------------
    async def _apply(
        self,
        migration: Migration,
        file: migration_files.MigrationFile,
        batch: int,
        direction: Literal["up", "down"],
        dry_run: bool,
    ) -> MigrationRun:
        run = MigrationRun(file.name, direction)
        started = time.perf_counter()
        if dry_run:
            session = DryRunSession(self.db)
            await getattr(migration, direction)(QueryBuilder(session))
            run.statements = session.statements
            return run

        def capture(payload: dict[str, Any]) -> None:
            sql = payload["sql"]
            if not _returns_rows(sql) and self.options.table_name not in sql:
                run.statements.append(sql)

        step = getattr(migration, direction)
        self.db.on("query", capture)
        try:
            atomic = (
                self.options.transaction
                and migration.transaction
                and self.db.dialect.capabilities.transactional_ddl
            )
            if atomic:
                try:
                    async with Transaction(self.db, schema_changes=True):
                        await step(self.db.query)
                        await self._record(file, batch, direction)
                except Exception as exc:
                    raise MigrationError(
                        f"migration {file.name} ({direction}) failed and was rolled back, "
                        f"nothing of it applied: {exc}"
                    ) from exc
            else:
                try:
                    await step(self.db.query)
                except Exception as exc:
                    if direction == "up" and run.statements:
                        await self.history.record(
                            file.name,
                            batch,
                            file.checksum,
                            state="partial",
                            statements=len(run.statements),
                            error=str(exc)[:1000],
                            ran=";\n".join(run.statements),
                        )
                    raise MigrationError(
                        f"migration {file.name} failed after {len(run.statements)} statement(s)"
                        f" with no transaction to undo them: {exc}"
                    ) from exc
                await self._record(file, batch, direction)
        finally:
            self.db.off("query", capture)
        run.seconds = time.perf_counter() - started
        event = "migration:applied" if direction == "up" else "migration:rolledback"
        self.db.events.emit(
            event,
            {
                "name": file.name,
                "batch": batch,
                "seconds": run.seconds,
                "statements": len(run.statements),
            },
        )
        return run

    async def _record(
        self, file: migration_files.MigrationFile, batch: int, direction: Literal["up", "down"]
    ) -> None:
        if direction == "up":
            await self.history.record(file.name, batch, file.checksum)
        else:
            await self.history.forget(file.name)


def next_number(directory: Path) -> int:
    numbers = [
        int(m.group(1)) for p in directory.glob("*.py") if (m := re.match(r"(\d+)_", p.name))
    ]
    return max(numbers, default=0) + 1


use_migrator(MigrationManager)
