"""``Migration``: the base class of every migration file.

class CreateUsers(Migration):
    async def up(self, db: QueryBuilder) -> None:
        await db.schema.create_table("users", lambda t: (t.increments("id"), t.string("name")))

    async def down(self, db: QueryBuilder) -> None:
        await db.schema.drop_table("users")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..errors import MigrationError

if TYPE_CHECKING:
    from ..query.query_builder import QueryBuilder


class Migration:
    """One step of the schema's history; the file name (without ``.py``) is its name."""

    # False runs this migration outside a transaction (e.g. CREATE INDEX CONCURRENTLY)
    transaction: ClassVar[bool] = True
    name: str = ""

    async def up(self, db: QueryBuilder) -> None:
        raise MigrationError(f"migration {self.name} has no up()")

    async def down(self, db: QueryBuilder) -> None:
        raise MigrationError(f"migration {self.name} has no down(): it cannot be rolled back")
