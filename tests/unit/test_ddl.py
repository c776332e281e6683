"""DDL compile tests (SPEC 5): SchemaBuilder operations -> statements, every dialect side by
side, exact SQL. No database: builders come from never-connected managers; the SQLite
rebuild planner is fed table definitions directly.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Callable, Sequence

import pytest

from jadugar import (
    ColumnDefinition,
    ForeignKeyReference,
    IndexOptions,
    SchemaBuilder,
    TableBuilder,
    UnsupportedOperation,
    fn,
)
from jadugar.dialects.sqlite import sqltext
from jadugar.dialects.sqlite.rebuild import Environment, TableState
from jadugar.errors import QueryError
from jadugar.migrations import operations as ops
from jadugar.schema_compiler import NeedState, Plan, StateSource, shorten
from tests.unit.compile_helpers import DIALECTS, Raises, manager

Build = Callable[[SchemaBuilder], SchemaBuilder]
Expected = Sequence[str] | Raises
REBUILD = Raises(UnsupportedOperation, r"to_sql_async\(\)")


def schema(dialect: str) -> SchemaBuilder:
    return manager(dialect).schema


def assert_ddl(build: Build, *, postgres: Expected, mysql: Expected, sqlite: Expected) -> None:
    """``build(schema).to_sql()`` for every dialect, compared with the expected statements."""
    expected: dict[str, Expected] = {"postgres": postgres, "mysql": mysql, "sqlite": sqlite}
    problems: list[str] = []
    for dialect in DIALECTS:
        want = expected[dialect]
        try:
            got: list[str] | BaseException = build(schema(dialect)).to_sql()
        except Exception as exc:
            got = exc
        if isinstance(want, Raises):
            if not isinstance(got, want.error) or not re.search(want.match, str(got)):
                problems.append(
                    f"{dialect}: expected {want.error.__name__}({want.match!r}), got {got!r}"
                )
        elif isinstance(got, BaseException):
            problems.append(f"{dialect}: raised {type(got).__name__}: {got}")
        elif got != list(want):
            problems.append(f"{dialect}:\n  expected {list(want)!r}\n  got      {got!r}")
    if problems:
        raise AssertionError("\n".join(problems))


# ---- create_table ----------------------------------------------------------------------------
def every_type(t: TableBuilder) -> None:
    t.big_increments()
    t.integer("i")
    t.big_integer("bi")
    t.small_integer("si")
    t.float("f")
    t.double("d")
    t.decimal("n")
    t.string("s")
    t.text("tx")
    t.boolean("b")
    t.date("dt")
    t.time("tm")
    t.timestamp("ts")
    t.uuid("u")
    t.json("j")
    t.binary("bin")
    t.enum("e", ["x", "y"])


def test_create_table_every_column_type() -> None:
    assert_ddl(
        lambda s: s.create_table("t", every_type),
        postgres=[
            'CREATE TABLE "t" ("id" BIGSERIAL PRIMARY KEY, "i" INTEGER, "bi" BIGINT, '
            '"si" SMALLINT, "f" REAL, "d" DOUBLE PRECISION, "n" NUMERIC(8, 2), '
            '"s" VARCHAR(255), "tx" TEXT, "b" BOOLEAN, "dt" DATE, "tm" TIME, '
            '"ts" TIMESTAMPTZ, "u" UUID, "j" JSONB, "bin" BYTEA, '
            '"e" TEXT CONSTRAINT "t_e_check" CHECK ("e" IN (\'x\', \'y\')))'
        ],
        mysql=[
            "CREATE TABLE `t` (`id` BIGINT AUTO_INCREMENT PRIMARY KEY, `i` INTEGER, "
            "`bi` BIGINT, `si` SMALLINT, `f` FLOAT, `d` DOUBLE, `n` DECIMAL(8, 2), "
            "`s` VARCHAR(255), `tx` LONGTEXT, `b` BOOLEAN, `dt` DATE, `tm` TIME(6), "
            "`ts` DATETIME(6), `u` CHAR(36), `j` JSON, `bin` LONGBLOB, "
            "`e` ENUM('x', 'y')) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        ],
        sqlite=[
            "CREATE TABLE `t` (`id` INTEGER PRIMARY KEY AUTOINCREMENT, `i` INTEGER, "
            "`bi` BIGINT, `si` SMALLINT, `f` REAL, `d` DOUBLE PRECISION, `n` NUMERIC(8, 2), "
            "`s` VARCHAR(255), `tx` TEXT, `b` BOOLEAN, `dt` DATE, `tm` TIME, "
            "`ts` TIMESTAMP, `u` CHAR(36), `j` JSON, `bin` BLOB, "
            "`e` TEXT CONSTRAINT `t_e_check` CHECK (`e` IN ('x', 'y')))"
        ],
    )


def users(t: TableBuilder) -> None:
    t.increments()
    t.string("email", 100).not_null().unique()
    t.integer("team_id").references("teams.id").on_delete("cascade").index()
    t.timestamps()
    t.soft_deletes()


def test_create_table_modifiers_and_helpers() -> None:
    assert_ddl(
        lambda s: s.create_table("users", users),
        postgres=[
            'CREATE TABLE "users" ("id" SERIAL PRIMARY KEY, "email" VARCHAR(100) NOT NULL, '
            '"team_id" INTEGER, '
            '"created_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP, '
            '"updated_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP, '
            '"deleted_at" TIMESTAMPTZ, CONSTRAINT "users_email_unique" UNIQUE ("email"), '
            'CONSTRAINT "users_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams" ("id") '
            "ON DELETE CASCADE)",
            'CREATE INDEX "users_team_id_index" ON "users" ("team_id")',
        ],
        mysql=[
            "CREATE TABLE `users` (`id` INTEGER AUTO_INCREMENT PRIMARY KEY, "
            "`email` VARCHAR(100) NOT NULL, `team_id` INTEGER, "
            "`created_at` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), "
            "`updated_at` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), "
            "`deleted_at` DATETIME(6), CONSTRAINT `users_email_unique` UNIQUE (`email`), "
            "CONSTRAINT `users_team_id_fkey` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) "
            "ON DELETE CASCADE) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
            "CREATE INDEX `users_team_id_index` ON `users` (`team_id`)",
        ],
        sqlite=[
            "CREATE TABLE `users` (`id` INTEGER PRIMARY KEY AUTOINCREMENT, "
            "`email` VARCHAR(100) NOT NULL, `team_id` INTEGER, "
            "`created_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, "
            "`updated_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, "
            "`deleted_at` TIMESTAMP, "
            "CONSTRAINT `users_team_id_fkey` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`) "
            "ON DELETE CASCADE)",
            "CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`)",
            "CREATE INDEX `users_team_id_index` ON `users` (`team_id`)",
        ],
    )


def defaults(t: TableBuilder) -> None:
    t.string("a").default_to("it's \\ 50%")
    t.integer("b").default_to(-3)
    t.boolean("c").default_to(False)
    t.decimal("d").default_to(decimal.Decimal("9.50"))
    t.date("e").default_to(datetime.date(2024, 1, 2))
    zone = datetime.timezone(datetime.timedelta(hours=2))
    t.timestamp("f").default_to(datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=zone))
    t.binary("g").default_to(b"\x00\xff")
    t.json("h").default_to([1, "a"])
    t.uuid("i").default_to(fn.raw("gen_random_uuid()"))


def test_defaults_are_escaped_literals() -> None:
    assert_ddl(
        lambda s: s.create_table("t", defaults),
        postgres=[
            "CREATE TABLE \"t\" (\"a\" VARCHAR(255) DEFAULT 'it''s \\ 50%', "
            '"b" INTEGER DEFAULT -3, "c" BOOLEAN DEFAULT FALSE, '
            '"d" NUMERIC(8, 2) DEFAULT 9.50, "e" DATE DEFAULT \'2024-01-02\', '
            "\"f\" TIMESTAMPTZ DEFAULT '2024-01-02 03:04:05+02:00', "
            '"g" BYTEA DEFAULT \'\\x00ff\'::bytea, "h" JSONB DEFAULT \'[1,"a"]\', '
            '"i" UUID DEFAULT (gen_random_uuid()))'
        ],
        mysql=[
            "CREATE TABLE `t` (`a` VARCHAR(255) DEFAULT 'it''s \\\\ 50%', "
            "`b` INTEGER DEFAULT -3, `c` BOOLEAN DEFAULT FALSE, "
            "`d` DECIMAL(8, 2) DEFAULT 9.50, `e` DATE DEFAULT '2024-01-02', "
            "`f` DATETIME(6) DEFAULT '2024-01-02 01:04:05', "
            "`g` LONGBLOB DEFAULT (X'00FF'), `h` JSON DEFAULT ('[1,\"a\"]'), "
            "`i` CHAR(36) DEFAULT (gen_random_uuid())) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        ],
        sqlite=[
            "CREATE TABLE `t` (`a` VARCHAR(255) DEFAULT 'it''s \\ 50%', "
            "`b` INTEGER DEFAULT -3, `c` BOOLEAN DEFAULT FALSE, "
            "`d` NUMERIC(8, 2) DEFAULT 9.50, `e` DATE DEFAULT '2024-01-02', "
            "`f` TIMESTAMP DEFAULT '2024-01-02 03:04:05+02:00', "
            "`g` BLOB DEFAULT X'00FF', `h` JSON DEFAULT '[1,\"a\"]', "
            "`i` CHAR(36) DEFAULT (gen_random_uuid()))"
        ],
    )


def pivot(t: TableBuilder) -> None:
    t.integer("post_id")
    t.integer("tag_id")
    t.primary(["post_id", "tag_id"])
    t.unique(["tag_id", "post_id"])
    t.index("tag_id", "pt_tag")
    t.foreign(
        ForeignKeyReference("post_id", "posts", "id", on_delete="set_null", on_update="CASCADE")
    )


def test_composite_keys_table_constraints_and_if_not_exists() -> None:
    assert_ddl(
        lambda s: s.create_table("pt", pivot, if_not_exists=True),
        postgres=[
            'CREATE TABLE IF NOT EXISTS "pt" ("post_id" INTEGER NOT NULL, '
            '"tag_id" INTEGER NOT NULL, PRIMARY KEY ("post_id", "tag_id"), '
            'CONSTRAINT "pt_tag_id_post_id_unique" UNIQUE ("tag_id", "post_id"), '
            'CONSTRAINT "pt_post_id_fkey" FOREIGN KEY ("post_id") REFERENCES "posts" ("id") '
            "ON DELETE SET NULL ON UPDATE CASCADE)",
            'CREATE INDEX "pt_tag" ON "pt" ("tag_id")',
        ],
        mysql=[
            "CREATE TABLE IF NOT EXISTS `pt` (`post_id` INTEGER NOT NULL, "
            "`tag_id` INTEGER NOT NULL, PRIMARY KEY (`post_id`, `tag_id`), "
            "CONSTRAINT `pt_tag_id_post_id_unique` UNIQUE (`tag_id`, `post_id`), "
            "CONSTRAINT `pt_post_id_fkey` FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`) "
            "ON DELETE SET NULL ON UPDATE CASCADE) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
            "CREATE INDEX `pt_tag` ON `pt` (`tag_id`)",
        ],
        sqlite=[
            "CREATE TABLE IF NOT EXISTS `pt` (`post_id` INTEGER NOT NULL, "
            "`tag_id` INTEGER NOT NULL, PRIMARY KEY (`post_id`, `tag_id`), "
            "CONSTRAINT `pt_post_id_fkey` FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`) "
            "ON DELETE SET NULL ON UPDATE CASCADE)",
            "CREATE UNIQUE INDEX `pt_tag_id_post_id_unique` ON `pt` (`tag_id`, `post_id`)",
            "CREATE INDEX `pt_tag` ON `pt` (`tag_id`)",
        ],
    )


def test_with_block_records_into_the_builder() -> None:
    for dialect in DIALECTS:
        s = schema(dialect)
        assert s() is s  # qb.schema() spelling
        with s.create_table("tags") as t:
            t.string("name").primary()
        assert [type(op) for op in s.operations] == [ops.CreateTable]
        assert s.to_sql()[0].startswith("CREATE TABLE")
    with pytest.raises(RuntimeError), schema("sqlite").create_table("x") as t:
        t.integer("a")
        raise RuntimeError  # nothing recorded for a failed block


def test_a_with_block_on_a_builder_nobody_runs_warns() -> None:
    lost = manager("sqlite").schema.create_table("lost")  # its builder is gone after the block
    with pytest.warns(RuntimeWarning, match="dropped without running them"):
        with lost as t:
            t.integer("a")
        del lost


def test_builder_mistakes_name_the_table_and_column() -> None:
    cases: list[tuple[Build, str]] = [
        (lambda s: s.create_table("t", lambda t: (t.integer("a"), t.integer("A"))), "'a' is defined twice"),
        (lambda s: s.create_table("t", lambda t: t.integer("a").on_delete("cascade")), "references"),
        (lambda s: s.create_table("t", lambda t: t.enum("e", [])), "enum"),
        (lambda s: s.create_table("t", lambda t: t.decimal("d", 4, 6)), "scale"),
        (lambda s: s.create_table("t", lambda t: t.integer("a").references("nodot")), "table.column"),
        (lambda s: s.create_table("t", lambda t: (t.increments(), t.integer("b").primary())), "auto-increment"),
        (lambda s: s.create_table("t", lambda t: t.primary(["nope"])), "no columns"),
        (lambda s: s.create_table("t", lambda t: (t.integer("a"), t.primary(["nope"]))), "no column 'nope'"),
        (lambda s: s.create_table("t", lambda t: t.integer("a").default_to(object())), "default_to"),
    ]  # fmt: skip
    for build, message in cases:
        with pytest.raises((ValueError, TypeError), match=message):
            build(schema("postgres")).to_sql()
    with pytest.raises(ValueError, match="foreign key action"):
        TableBuilder("t").integer("a").references("b.id").on_delete("explode")


# ---- tables and columns ----------------------------------------------------------------------
def test_drop_and_rename_table() -> None:
    assert_ddl(
        lambda s: s.drop_table("a").drop_table("b", if_exists=True).rename_table("c", "d"),
        postgres=['DROP TABLE "a"', 'DROP TABLE IF EXISTS "b"', 'ALTER TABLE "c" RENAME TO "d"'],
        mysql=["DROP TABLE `a`", "DROP TABLE IF EXISTS `b`", "ALTER TABLE `c` RENAME TO `d`"],
        sqlite=["DROP TABLE `a`", "DROP TABLE IF EXISTS `b`", "ALTER TABLE `c` RENAME TO `d`"],
    )


def test_add_column_with_unique_index_and_foreign_key() -> None:
    column = ColumnDefinition(
        "team_id", "integer", unique=True, index=True, references="teams.id", on_delete="set null"
    )
    assert_ddl(
        lambda s: s.add_column("users", column),
        postgres=[
            'ALTER TABLE "users" ADD COLUMN "team_id" INTEGER',
            'ALTER TABLE "users" ADD CONSTRAINT "users_team_id_unique" UNIQUE ("team_id")',
            'ALTER TABLE "users" ADD CONSTRAINT "users_team_id_fkey" FOREIGN KEY ("team_id") '
            'REFERENCES "teams" ("id") ON DELETE SET NULL',
            'CREATE INDEX "users_team_id_index" ON "users" ("team_id")',
        ],
        mysql=[
            "ALTER TABLE `users` ADD COLUMN `team_id` INTEGER",
            "ALTER TABLE `users` ADD CONSTRAINT `users_team_id_unique` UNIQUE (`team_id`)",
            "ALTER TABLE `users` ADD CONSTRAINT `users_team_id_fkey` FOREIGN KEY (`team_id`) "
            "REFERENCES `teams` (`id`) ON DELETE SET NULL",
            "CREATE INDEX `users_team_id_index` ON `users` (`team_id`)",
        ],
        sqlite=[
            "ALTER TABLE `users` ADD COLUMN `team_id` INTEGER CONSTRAINT `users_team_id_fkey` "
            "REFERENCES `teams` (`id`) ON DELETE SET NULL",
            "CREATE UNIQUE INDEX `users_team_id_unique` ON `users` (`team_id`)",
            "CREATE INDEX `users_team_id_index` ON `users` (`team_id`)",
        ],
    )


def test_add_column_sqlite_cannot_add_in_place_is_a_rebuild() -> None:
    for column in (
        ColumnDefinition("n", "integer", nullable=False),  # NOT NULL without a default
        ColumnDefinition("at", "timestamp", default=fn.now()),  # not a constant
        ColumnDefinition("k", "uuid", primary=True),
    ):
        with pytest.raises(UnsupportedOperation, match="to_sql_async"):
            schema("sqlite").add_column("t", column).to_sql()
    assert_ddl(
        lambda s: s.add_column("t", ColumnDefinition("n", "integer", nullable=False, default=0)),
        postgres=['ALTER TABLE "t" ADD COLUMN "n" INTEGER NOT NULL DEFAULT 0'],
        mysql=["ALTER TABLE `t` ADD COLUMN `n` INTEGER NOT NULL DEFAULT 0"],
        sqlite=["ALTER TABLE `t` ADD COLUMN `n` INTEGER NOT NULL DEFAULT 0"],
    )


def test_alter_table_adds_columns_and_keys() -> None:
    def change(t: TableBuilder) -> None:
        t.string("nick", 50).nullable()
        t.unique(["nick"])

    assert_ddl(
        lambda s: s.alter_table("users", change),
        postgres=[
            'ALTER TABLE "users" ADD COLUMN "nick" VARCHAR(50)',
            'ALTER TABLE "users" ADD CONSTRAINT "users_nick_unique" UNIQUE ("nick")',
        ],
        mysql=[
            "ALTER TABLE `users` ADD COLUMN `nick` VARCHAR(50)",
            "ALTER TABLE `users` ADD CONSTRAINT `users_nick_unique` UNIQUE (`nick`)",
        ],
        sqlite=[
            "ALTER TABLE `users` ADD COLUMN `nick` VARCHAR(50)",
            "CREATE UNIQUE INDEX `users_nick_unique` ON `users` (`nick`)",
        ],
    )


def test_drop_and_rename_column() -> None:
    assert_ddl(
        lambda s: s.rename_column("users", "name", "full name"),
        postgres=['ALTER TABLE "users" RENAME COLUMN "name" TO "full name"'],
        mysql=["ALTER TABLE `users` RENAME COLUMN `name` TO `full name`"],
        sqlite=["ALTER TABLE `users` RENAME COLUMN `name` TO `full name`"],
    )
    assert_ddl(
        lambda s: s.drop_column("users", "bio"),
        postgres=['ALTER TABLE "users" DROP COLUMN "bio"'],
        mysql=["ALTER TABLE `users` DROP COLUMN `bio`"],
        sqlite=REBUILD,  # native or rebuild: depends on what uses the column
    )


def test_alter_column_every_change() -> None:
    column = ColumnDefinition("age", "big_integer", nullable=False, default=0)
    assert_ddl(
        lambda s: s.alter_column("users", column),
        postgres=[
            'ALTER TABLE "users" DROP CONSTRAINT IF EXISTS "users_age_check", '
            'ALTER COLUMN "age" DROP DEFAULT, ALTER COLUMN "age" TYPE BIGINT USING "age"::BIGINT, '
            'ALTER COLUMN "age" SET NOT NULL, ALTER COLUMN "age" SET DEFAULT 0'
        ],
        mysql=["ALTER TABLE `users` MODIFY COLUMN `age` BIGINT NOT NULL DEFAULT 0"],
        sqlite=REBUILD,
    )


def test_alter_column_some_changes() -> None:
    assert_ddl(
        lambda s: s.alter_column(
            "users", ColumnDefinition("bio", "text"), changes=["nullable", "default"]
        ),
        postgres=[
            'ALTER TABLE "users" ALTER COLUMN "bio" DROP NOT NULL, ALTER COLUMN "bio" DROP DEFAULT'
        ],
        mysql=["ALTER TABLE `users` MODIFY COLUMN `bio` LONGTEXT"],
        sqlite=REBUILD,
    )
    assert_ddl(
        lambda s: s.alter_column(
            "posts", ColumnDefinition("state", "enum", values=("a", "b")), changes=["type"]
        ),
        postgres=[
            'ALTER TABLE "posts" DROP CONSTRAINT IF EXISTS "posts_state_check", '
            'ALTER COLUMN "state" DROP DEFAULT, ALTER COLUMN "state" TYPE TEXT USING "state"::TEXT, '
            "ADD CONSTRAINT \"posts_state_check\" CHECK (\"state\" IN ('a', 'b'))"
        ],
        mysql=["ALTER TABLE `posts` MODIFY COLUMN `state` ENUM('a', 'b')"],
        sqlite=REBUILD,
    )
    assert_ddl(
        lambda s: s.alter_column("t", ColumnDefinition("id", "big_increments"), changes=["type"]),
        postgres=[
            'ALTER TABLE "t" DROP CONSTRAINT IF EXISTS "t_id_check", '
            'ALTER COLUMN "id" TYPE BIGINT USING "id"::BIGINT'
        ],
        mysql=["ALTER TABLE `t` MODIFY COLUMN `id` BIGINT NOT NULL AUTO_INCREMENT"],
        sqlite=REBUILD,
    )
    assert_ddl(
        lambda s: s.alter_column(
            "t", ColumnDefinition("a", "text", default="x"), changes=["default"]
        ).alter_column("t", ColumnDefinition("b", "string"), changes=["default"]),
        postgres=[
            'ALTER TABLE "t" ALTER COLUMN "a" SET DEFAULT \'x\'',
            'ALTER TABLE "t" ALTER COLUMN "b" DROP DEFAULT',
        ],
        mysql=[  # piecewise: MODIFY would restate the nullability too
            "ALTER TABLE `t` ALTER COLUMN `a` SET DEFAULT ('x')",
            "ALTER TABLE `t` ALTER COLUMN `b` DROP DEFAULT",
        ],
        sqlite=REBUILD,
    )
    with pytest.raises(ValueError, match="changes"):
        schema("postgres").alter_column("t", ColumnDefinition("a", "text"), changes=["size"])


# ---- indexes and keys ------------------------------------------------------------------------
def test_create_index_options() -> None:
    assert_ddl(
        lambda s: (
            s.create_index("users", ["last", "first"])
            .create_index("users", "email", IndexOptions(unique=True))
            .create_index("users", "nick", IndexOptions(name="by_nick", method="btree"))
        ),
        postgres=[
            'CREATE INDEX "users_last_first_index" ON "users" ("last", "first")',
            'CREATE UNIQUE INDEX "users_email_unique" ON "users" ("email")',
            'CREATE INDEX "by_nick" ON "users" USING BTREE ("nick")',
        ],
        mysql=[
            "CREATE INDEX `users_last_first_index` ON `users` (`last`, `first`)",
            "CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`)",
            "CREATE INDEX `by_nick` ON `users` (`nick`) USING BTREE",
        ],
        sqlite=[
            "CREATE INDEX `users_last_first_index` ON `users` (`last`, `first`)",
            "CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`)",
            "CREATE INDEX `by_nick` ON `users` (`nick`)",
        ],
    )


def test_index_method_and_partial_index_where_unsupported() -> None:
    assert_ddl(
        lambda s: s.create_index("docs", "body", IndexOptions(method="gin")),
        postgres=['CREATE INDEX "docs_body_index" ON "docs" USING GIN ("body")'],
        mysql=Raises(UnsupportedOperation, "index method 'gin' is not supported on mysql"),
        sqlite=Raises(UnsupportedOperation, "index method 'gin' is not supported on sqlite"),
    )
    assert_ddl(
        lambda s: s.create_index("users", "email", IndexOptions(where="deleted_at IS NULL")),
        postgres=['CREATE INDEX "users_email_index" ON "users" ("email") WHERE deleted_at IS NULL'],
        mysql=Raises(UnsupportedOperation, "partial index .* not supported on mysql"),
        sqlite=["CREATE INDEX `users_email_index` ON `users` (`email`) WHERE deleted_at IS NULL"],
    )


def test_drop_index_by_name_or_columns() -> None:
    assert_ddl(
        lambda s: s.drop_index("users", "by_nick").drop_index("users", ["last", "first"]),
        postgres=['DROP INDEX "by_nick"', 'DROP INDEX "users_last_first_index"'],
        mysql=[
            "DROP INDEX `by_nick` ON `users`",
            "DROP INDEX `users_last_first_index` ON `users`",
        ],
        sqlite=["DROP INDEX `by_nick`", "DROP INDEX `users_last_first_index`"],
    )
    assert_ddl(
        lambda s: s.drop_index("app.users", "by_nick"),
        postgres=['DROP INDEX "app"."by_nick"'],
        mysql=["DROP INDEX `by_nick` ON `app`.`users`"],
        sqlite=["DROP INDEX `app`.`by_nick`"],
    )


def test_foreign_keys() -> None:
    reference = ForeignKeyReference(["a", "b"], "pairs", ["x", "y"], on_delete="restrict")
    assert_ddl(
        lambda s: s.add_foreign_key("t", reference),
        postgres=[
            'ALTER TABLE "t" ADD CONSTRAINT "t_a_b_fkey" FOREIGN KEY ("a", "b") '
            'REFERENCES "pairs" ("x", "y") ON DELETE RESTRICT'
        ],
        mysql=[
            "ALTER TABLE `t` ADD CONSTRAINT `t_a_b_fkey` FOREIGN KEY (`a`, `b`) "
            "REFERENCES `pairs` (`x`, `y`) ON DELETE RESTRICT"
        ],
        sqlite=REBUILD,
    )
    assert_ddl(
        lambda s: s.drop_foreign_key("t", "t_a_b_fkey").drop_foreign_key("t", ["c"]),
        postgres=[
            'ALTER TABLE "t" DROP CONSTRAINT "t_a_b_fkey"',
            'ALTER TABLE "t" DROP CONSTRAINT "t_c_fkey"',
        ],
        mysql=[
            "ALTER TABLE `t` DROP FOREIGN KEY `t_a_b_fkey`",
            "ALTER TABLE `t` DROP FOREIGN KEY `t_c_fkey`",
        ],
        sqlite=REBUILD,
    )
    set_default = ForeignKeyReference("a", "p", "id", on_delete="set default")
    assert_ddl(
        lambda s: s.add_foreign_key("t", set_default),
        postgres=[
            'ALTER TABLE "t" ADD CONSTRAINT "t_a_fkey" FOREIGN KEY ("a") '
            'REFERENCES "p" ("id") ON DELETE SET DEFAULT'
        ],
        mysql=Raises(UnsupportedOperation, "ON DELETE SET DEFAULT is not supported on mysql"),
        sqlite=REBUILD,
    )


def test_unique_constraints() -> None:
    assert_ddl(
        lambda s: s.add_unique("u", ["a", "b"]).drop_unique("u", ["a", "b"]).drop_unique("u", "k"),
        postgres=[
            'ALTER TABLE "u" ADD CONSTRAINT "u_a_b_unique" UNIQUE ("a", "b")',
            'ALTER TABLE "u" DROP CONSTRAINT "u_a_b_unique"',
            'ALTER TABLE "u" DROP CONSTRAINT "k"',
        ],
        mysql=[
            "ALTER TABLE `u` ADD CONSTRAINT `u_a_b_unique` UNIQUE (`a`, `b`)",
            "ALTER TABLE `u` DROP INDEX `u_a_b_unique`",
            "ALTER TABLE `u` DROP INDEX `k`",
        ],
        sqlite=[
            "CREATE UNIQUE INDEX `u_a_b_unique` ON `u` (`a`, `b`)",
            "DROP INDEX `u_a_b_unique`",
            "DROP INDEX `k`",
        ],
    )


def test_raw_statements_run_as_written() -> None:
    sql = "CREATE INDEX ix ON docs ((data->>'k')) WHERE data ? 'k'"
    assert_ddl(lambda s: s.raw(sql), postgres=[sql], mysql=[sql], sqlite=[sql])


# ---- identifiers and names -------------------------------------------------------------------
def test_identifiers_are_quoted_for_each_dialect() -> None:
    assert_ddl(
        lambda s: s.create_table('we"ird`t', lambda t: t.string("sp ace").index()),
        postgres=[
            'CREATE TABLE "we""ird`t" ("sp ace" VARCHAR(255))',
            'CREATE INDEX "we""ird`t_sp ace_index" ON "we""ird`t" ("sp ace")',
        ],
        mysql=[
            'CREATE TABLE `we"ird``t` (`sp ace` VARCHAR(255)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4',
            'CREATE INDEX `we"ird``t_sp ace_index` ON `we"ird``t` (`sp ace`)',
        ],
        sqlite=[
            'CREATE TABLE `we"ird``t` (`sp ace` VARCHAR(255))',
            'CREATE INDEX `we"ird``t_sp ace_index` ON `we"ird``t` (`sp ace`)',
        ],
    )


def test_long_names_are_shortened_deterministically() -> None:
    table = "a_table_with_a_rather_long_name_for_testing"  # 43 characters
    columns = ["first_long_column_name", "second_long_column_name"]
    limits = {"postgres": 63, "mysql": 64, "sqlite": 1024}
    for dialect, limit in limits.items():
        (statement,) = schema(dialect).create_index(table, columns).to_sql()
        name = statement.split(" ON ")[0].removeprefix("CREATE INDEX ")[1:-1]
        assert len(name.encode()) <= limit
        assert name == shorten(f"{table}_{'_'.join(columns)}_index", limit)
    assert shorten("x" * 70, 63) == shorten("x" * 70, 63) != shorten("x" * 71, 63)
    assert len(shorten("é" * 40, 63).encode()) <= 63  # never splits a UTF-8 character


def test_every_operation_has_a_handler() -> None:
    for dialect in DIALECTS:
        handlers = manager(dialect).dialect.ddl._handlers()
        assert set(handlers) == set(ops.OPERATIONS), dialect


def test_options_take_positional_arguments() -> None:
    reference = ForeignKeyReference("user_id", "users", "id", "cascade", "restrict", "fk")
    assert (reference.columns, reference.references) == (("user_id",), ("id",))
    assert (reference.on_delete, reference.on_update, reference.name) == (
        "CASCADE",
        "RESTRICT",
        "fk",
    )
    assert IndexOptions("ix", True).unique
    assert ColumnDefinition("s", "string").length == 255
    assert ColumnDefinition("id", "increments").nullable is False
    with pytest.raises(ValueError, match="2 columns but 1"):
        ForeignKeyReference(["a", "b"], "t", ["id"])
    with pytest.raises(TypeError, match="not a DDL operation"):
        schema("sqlite").add("DROP TABLE x")  # type: ignore[arg-type]


# ---- the SQLite rebuild planner --------------------------------------------------------------
SQLITE_ON = Environment(foreign_keys=True, references=frozenset())
TEAMS = (
    "CREATE TABLE `teams` (`id` INTEGER PRIMARY KEY AUTOINCREMENT, "
    "name TEXT NOT NULL COLLATE NOCASE CHECK (length(name) > 0), "
    "\"state\" TEXT DEFAULT 'a' CONSTRAINT `teams_state_check` CHECK (\"state\" IN ('a', 'b')), "
    "boss INTEGER CONSTRAINT teams_boss_fkey REFERENCES people (id) ON DELETE SET NULL, "
    "owner INTEGER REFERENCES people(id), "
    "CONSTRAINT teams_name_owner UNIQUE (name, owner))"
)
TEAMS_ROWS = [
    {"type": "table", "name": "teams", "sql": TEAMS},
    {"type": "index", "name": "teams_owner_index", "sql": "CREATE INDEX teams_owner_index ON teams (owner)"},
    {"type": "trigger", "name": "t1", "sql": "CREATE TRIGGER t1 AFTER INSERT ON teams BEGIN SELECT 1; END"},
]  # fmt: skip


def sqlite_plan(
    *operations: ops.Operation,
    in_transaction: bool = False,
    environment: Environment = SQLITE_ON,
    tables: dict[str, TableState | None] | None = None,
) -> Plan:
    ddl = manager("sqlite").dialect.ddl
    known = {"teams": ddl.parse_state("teams", TEAMS_ROWS)} if tables is None else tables
    source = StateSource(in_transaction, dict(known), environment)
    return ddl.plan(list(operations), source)


REBUILD_TAIL = [
    "DROP TABLE `teams`",
    "PRAGMA legacy_alter_table = ON",
    "ALTER TABLE `_jadugar_new_teams` RENAME TO `teams`",
    "PRAGMA legacy_alter_table = OFF",
    "CREATE INDEX teams_owner_index ON teams (owner)",
    "CREATE TRIGGER t1 AFTER INSERT ON teams BEGIN SELECT 1; END",
    "PRAGMA foreign_key_check",
]
SEQUENCE = [
    "DELETE FROM sqlite_sequence WHERE name = '_jadugar_new_teams'",
    "INSERT INTO sqlite_sequence (name, seq) SELECT '_jadugar_new_teams', seq "
    "FROM sqlite_sequence WHERE name = 'teams'",
]


def test_sqlite_alter_column_rebuild_keeps_what_it_does_not_change() -> None:
    plan = sqlite_plan(
        ops.AlterColumn("teams", ColumnDefinition("name", "string", length=80, default="x")),
        ops.AlterColumn(
            "teams", ColumnDefinition("state", "enum", values=("a", "b", "c")), frozenset({"type"})
        ),
    )
    assert plan.statements() == [
        "PRAGMA foreign_keys = OFF",
        "BEGIN IMMEDIATE",
        "CREATE TABLE `_jadugar_new_teams` (`id` INTEGER PRIMARY KEY AUTOINCREMENT, "
        "name VARCHAR(80) COLLATE NOCASE CHECK (length(name) > 0) DEFAULT 'x', "
        "\"state\" TEXT DEFAULT 'a' CONSTRAINT `teams_state_check` CHECK (`state` IN ('a', 'b', 'c')), "
        "boss INTEGER CONSTRAINT teams_boss_fkey REFERENCES people (id) ON DELETE SET NULL, "
        "owner INTEGER REFERENCES people(id), CONSTRAINT teams_name_owner UNIQUE (name, owner))",
        "INSERT INTO `_jadugar_new_teams` (`id`, `name`, `state`, `boss`, `owner`) "
        "SELECT `id`, `name`, `state`, `boss`, `owner` FROM `teams`",
        *SEQUENCE,
        *REBUILD_TAIL,
        "COMMIT",
        "PRAGMA foreign_keys = ON",
    ]


def test_sqlite_drop_column_takes_its_indexes_and_constraints() -> None:
    plan = sqlite_plan(ops.DropColumn("teams", "owner"))
    assert plan.body[0].sql == (
        "CREATE TABLE `_jadugar_new_teams` (`id` INTEGER PRIMARY KEY AUTOINCREMENT, "
        "name TEXT NOT NULL COLLATE NOCASE CHECK (length(name) > 0), "
        "\"state\" TEXT DEFAULT 'a' CONSTRAINT `teams_state_check` CHECK (\"state\" IN ('a', 'b')), "
        "boss INTEGER CONSTRAINT teams_boss_fkey REFERENCES people (id) ON DELETE SET NULL)"
    )
    statements = [s.sql for s in plan.body]
    assert "CREATE INDEX teams_owner_index ON teams (owner)" not in statements
    assert statements[1] == (
        "INSERT INTO `_jadugar_new_teams` (`id`, `name`, `state`, `boss`) "
        "SELECT `id`, `name`, `state`, `boss` FROM `teams`"
    )


def test_sqlite_drop_column_uses_alter_table_when_nothing_refers_to_it() -> None:
    plan = sqlite_plan(ops.DropColumn("teams", "state"))
    assert plan.statements() == ["ALTER TABLE `teams` DROP COLUMN `state`"]


def test_sqlite_foreign_keys_by_name_columns_and_unnamed() -> None:
    plan = sqlite_plan(
        ops.DropForeignKey("teams", "teams_boss_fkey"),
        ops.DropForeignKey("teams", "teams_owner_fkey", ("owner",)),  # unnamed: by columns
        ops.AddForeignKey(
            "teams", ForeignKeyReference("owner", "users", "id", on_delete="cascade")
        ),
    )
    assert plan.body[0].sql == (
        "CREATE TABLE `_jadugar_new_teams` (`id` INTEGER PRIMARY KEY AUTOINCREMENT, "
        "name TEXT NOT NULL COLLATE NOCASE CHECK (length(name) > 0), "
        "\"state\" TEXT DEFAULT 'a' CONSTRAINT `teams_state_check` CHECK (\"state\" IN ('a', 'b')), "
        "boss INTEGER, owner INTEGER, CONSTRAINT teams_name_owner UNIQUE (name, owner), "
        "CONSTRAINT `teams_owner_fkey` FOREIGN KEY (`owner`) REFERENCES `users` (`id`) "
        "ON DELETE CASCADE)"
    )
    assert sum(s.sql.startswith("CREATE TABLE") for s in plan.body) == 1  # one rebuild for all
    with pytest.raises(QueryError, match="no foreign key named 'nope'"):
        sqlite_plan(ops.DropForeignKey("teams", "nope"))


def test_sqlite_inside_a_transaction() -> None:
    drop = ops.DropForeignKey("teams", "teams_boss_fkey")
    plan = sqlite_plan(drop, in_transaction=True)
    assert not plan.isolated and plan.statements()[-1] == "PRAGMA foreign_key_check"
    assert "BEGIN IMMEDIATE" not in plan.statements()
    referenced = Environment(True, frozenset({("games", "teams")}))
    with pytest.raises(UnsupportedOperation, match=r"tables \['games'\] reference it"):
        sqlite_plan(drop, in_transaction=True, environment=referenced)
    off = Environment(False, frozenset({("games", "teams")}))
    assert not sqlite_plan(drop, in_transaction=True, environment=off).isolated
    plan = sqlite_plan(drop, environment=off)  # outside: no pragma to toggle
    assert plan.isolated and plan.setup == plan.teardown == ()


def test_sqlite_replays_the_batch_before_a_rebuild() -> None:
    plan = sqlite_plan(
        ops.CreateTable("tags", (ColumnDefinition("name", "string"),)),
        ops.RenameColumn("tags", "name", "label"),
        ops.CreateIndex("tags", ("label",)),
        ops.AlterColumn("tags", ColumnDefinition("label", "text", nullable=False)),
        tables={},
    )
    assert [s.sql for s in plan.body][2:5] == [
        "CREATE INDEX `tags_label_index` ON `tags` (`label`)",
        "CREATE TABLE `_jadugar_new_tags` (`label` TEXT NOT NULL)",
        "INSERT INTO `_jadugar_new_tags` (`label`) SELECT `label` FROM `tags`",
    ]
    assert "CREATE INDEX `tags_label_index` ON `tags` (`label`)" in [s.sql for s in plan.body[5:]]
    # a table renamed earlier in the batch is read under its old name
    with pytest.raises(NeedState) as need:
        sqlite_plan(ops.RenameTable("old", "new"), ops.DropColumn("new", "a"), tables={})
    assert need.value.table == "old"
    with pytest.raises(UnsupportedOperation, match="after raw SQL"):
        sqlite_plan(ops.RawSql("UPDATE teams SET boss = NULL"), ops.DropColumn("teams", "boss"))


def test_sqlite_to_sql_points_to_to_sql_async() -> None:
    s = schema("sqlite").create_table("a", lambda t: t.integer("x"))
    assert s.to_sql() == ["CREATE TABLE `a` (`x` INTEGER)"]
    with pytest.raises(UnsupportedOperation, match=r"to_sql\(\) of alter_column on table 'b'"):
        s.alter_column("b", ColumnDefinition("x", "text")).to_sql()


def test_sqlite_schema_text_reading() -> None:
    name, type_text, clauses = sqltext.split_column(
        "`a b` NUMERIC(10, 2) CONSTRAINT ck CHECK (a > 0) NOT NULL DEFAULT NULL "
        "REFERENCES t(id) ON DELETE SET NULL NOT DEFERRABLE COLLATE nocase"
    )
    assert (name, type_text) == ("a b", "NUMERIC(10, 2)")
    assert [(c.kind, c.name) for c in clauses] == [
        ("CHECK", "ck"),
        ("NOT", None),
        ("DEFAULT", None),
        ("REFERENCES", None),
        ("COLLATE", None),
    ]
    columns, constraints, options = sqltext.parse_create_table(
        'CREATE TABLE "t" (id INTEGER, -- a comment, with a comma\n n TEXT, '
        "CONSTRAINT u UNIQUE (n COLLATE nocase, id)) STRICT"
    )
    assert columns == ["id INTEGER", "n TEXT"] and options == "STRICT"
    assert sqltext.split_constraint(constraints[0]).columns == ("n", "id")
    renamed = sqltext.rename_names(
        "FOREIGN KEY (a) REFERENCES t (a)", "a", "`z`", where=sqltext.before_references
    )
    assert renamed == "FOREIGN KEY (`z`) REFERENCES t (a)"
