"""Composite primary keys, composite foreign keys, ``db_name`` columns, checks and server
defaults in schema files: what the loader makes of them, what it refuses (with file, line
and a sentence, nothing written), the code and DDL they generate, and what makemigrations
diffs."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]

from jadugar.dialects.mysql.compiler import MySQLCompiler
from jadugar.dialects.mysql.ddl import MySQLDdl
from jadugar.dialects.postgres.compiler import PostgresCompiler
from jadugar.dialects.postgres.ddl import PostgresDdl
from jadugar.dialects.sqlite.compiler import SQLiteCompiler
from jadugar.dialects.sqlite.ddl import SQLiteDdl
from jadugar.errors import MigrationError, SchemaError, UnsupportedOperation
from jadugar.migrations import operations as ops
from jadugar_generator.ddl_map import tables
from jadugar_generator.diff import diff
from jadugar_generator.generate import generate
from jadugar_generator.makemigrations import (
    make_migration,
    migration_source,
    read_snapshot,
    snapshot_text,
)
from jadugar_generator.schema.dump import dump
from jadugar_generator.schema.loader import load_files, load_schema
from jadugar_generator.schema.model import Schema, ServerDefault, without_locations
from jadugar_generator.schema_json import json_schema

ROOT = Path(__file__).resolve().parents[2]
TEST_MODELS = ROOT / "tests" / "composite_models"
SHOP = TEST_MODELS / "schemas"

# The example of the issue, as the pull command writes it.
EXAMPLE = """
models:
  Post:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
    relations:
      tags: {kind: belongs_to_many, model: Tag, through: post_tags, foreign_key: post_id, other_key: tag_id}
  Tag:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
  Order:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
  PostTag:
    table: post_tags
    primary_key: [post_id, tag_id]
    fields:
      post_id: {type: int, references: {model: Post, on_delete: cascade, name: post_tags_post_fk}}
      tag_id: {type: int, references: {model: Tag}}
  OrderLine:
    table: OrderLines
    primary_key: [order_id, line_no]
    fields:
      order_id: {type: int, db_name: OrderId}
      line_no: {type: int, db_name: "Line No"}
      price: {type: decimal, precision: 10, scale: 2, default: 0}
      placed_at: {type: datetime, server_default: now}
      token: {type: uuid, server_default: uuid}
      note: {type: text, nullable: true, server_default: {sql: "'none'"}}
    checks:
      - {name: order_lines_price_not_negative, expression: "price >= 0"}
    foreign_keys:
      - {columns: [order_id], references: {model: Order, fields: [id]}, on_delete: cascade, name: order_lines_order_fk}
  Shipment:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      order_id: {type: int}
      line_no: {type: int}
    foreign_keys:
      - {columns: [order_id, line_no], references: {model: OrderLine, fields: [order_id, line_no]}}
    relations:
      line: {kind: belongs_to, model: OrderLine, foreign_key: [order_id, line_no]}
"""


def _write(folder: Path, text: str, name: str = "schema.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def _load(tmp_path: Path, text: str) -> Schema:
    _write(tmp_path / "schemas", text)
    return load_schema(tmp_path / "schemas")


# 1. What the loader makes of the new options


def test_the_example_loads_with_its_keys_columns_checks_and_defaults(tmp_path: Path) -> None:
    schema = _load(tmp_path, EXAMPLE)
    line = schema.model("OrderLine")
    assert line is not None and line.table == "OrderLines"
    assert line.composite_key == ("order_id", "line_no")
    assert [f.name for f in line.key_fields] == ["order_id", "line_no"]
    assert all(f.primary_key for f in line.key_fields)
    order_id, line_no = line.field("order_id"), line.field("line_no")
    assert order_id is not None and (order_id.db_name, order_id.column) == ("OrderId", "OrderId")
    assert line_no is not None and line_no.column == "Line No"
    defaults = {f.name: f.server_default for f in line.fields if f.server_default}
    assert defaults == {
        "placed_at": ServerDefault(kind="now"),
        "token": ServerDefault(kind="uuid"),
        "note": ServerDefault(kind="sql", sql="'none'"),
    }
    assert [(c.name, c.expression) for c in line.checks] == [
        ("order_lines_price_not_negative", "price >= 0")
    ]
    (fk,) = line.foreign_keys
    assert (fk.columns, fk.model, fk.fields, fk.on_delete, fk.name) == (
        ("order_id",),
        "Order",
        ("id",),
        "cascade",
        "order_lines_order_fk",
    )
    pivot = schema.model("PostTag")
    assert pivot is not None and pivot.composite_key == ("post_id", "tag_id")
    post_id = pivot.field("post_id")
    assert post_id is not None and post_id.references is not None
    assert post_id.references.name == "post_tags_post_fk"
    shipment = schema.model("Shipment")
    assert shipment is not None
    (relation,) = shipment.relations
    assert relation.foreign_key == ("order_id", "line_no")
    assert relation.other_key == ("order_id", "line_no")  # OrderLine's key, by default
    assert shipment.foreign_keys[0].fields == ("order_id", "line_no")


def test_several_primary_key_fields_make_a_key_in_field_order(tmp_path: Path) -> None:
    schema = _load(
        tmp_path,
        """
        models:
          Seat:
            fields:
              row: {type: str, max_length: 2, primary_key: true}
              number: {type: int, primary_key: true}
              taken: {type: bool, default: false}
            relations:
              bookings: {kind: has_many, model: Booking, foreign_key: [seat_row, seat_number]}
              holds: {kind: has_one, model: Hold, foreign_key: [r, n], local_key: [row, number]}
          Booking:
            fields:
              id: {type: int, primary_key: true, auto_increment: true}
              seat_row: {type: str, max_length: 2}
              seat_number: {type: int}
            relations:
              seat: {kind: belongs_to, model: Seat, foreign_key: [seat_row, seat_number],
                     other_key: [row, number]}
          Hold:
            fields:
              id: {type: int, primary_key: true, auto_increment: true}
              r: {type: str, max_length: 2}
              n: {type: int}
        """,
    )
    seat = schema.model("Seat")
    assert seat is not None and seat.composite_key == ("row", "number")
    assert [(r.foreign_key, r.local_key) for r in seat.relations] == [
        (("seat_row", "seat_number"), ("row", "number")),
        (("r", "n"), ("row", "number")),
    ]
    code = generate(tmp_path / "schemas", tmp_path / "out", "cinema", root=tmp_path)
    assert code.written
    source = (tmp_path / "out" / "cinema" / "seat.py").read_text()
    assert 'primary_key=("row", "number"),' in source
    assert "async def find(cls, key: tuple[str, int]) -> Seat:" in source
    booking = (tmp_path / "out" / "cinema" / "booking.py").read_text()
    assert 'foreign_key=("seat_row", "seat_number"),' in booking
    assert 'other_key=("row", "number"),' in booking


def test_dump_writes_what_the_loader_reads_back(tmp_path: Path) -> None:
    schema = _load(tmp_path, EXAMPLE)
    text = dump(schema)
    assert "    primary_key: [order_id, line_no]\n" in text
    assert "      line_no: {type: int, db_name: Line No}\n" in text
    assert "server_default: now" in text and "server_default: {sql: '''none'''}" in text
    assert "      - {name: order_lines_price_not_negative, expression: price >= 0}\n" in text
    assert "references: {model: Post, on_delete: cascade, name: post_tags_post_fk}" in text
    assert "line: {kind: belongs_to, model: OrderLine, foreign_key: [order_id, line_no]}" in text
    again = _write(tmp_path / "again", text)
    assert without_locations(load_files([again])) == without_locations(schema)


def test_the_json_schema_takes_the_new_options_and_refuses_wrong_values(tmp_path: Path) -> None:
    validator = jsonschema.Draft7Validator(json_schema())
    assert list(validator.iter_errors(yaml.safe_load(EXAMPLE))) == []
    wrong = EXAMPLE.replace("server_default: uuid", "server_default: today")
    assert list(validator.iter_errors(yaml.safe_load(wrong)))
    wrong = EXAMPLE.replace("primary_key: [order_id, line_no]", "primary_key: order_id")
    assert list(validator.iter_errors(yaml.safe_load(wrong)))
    wrong = EXAMPLE.replace(
        "{type: datetime, server_default: now}", "{type: int, server_default: now}"
    )
    assert list(validator.iter_errors(yaml.safe_load(wrong)))


# 2. What it refuses: every problem with its file and line, nothing written

ORDER = """
models:
  Order:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
"""
LINE = """
  Line:
    primary_key: [order_id, line_no]
    fields:
      order_id: {type: int}
      line_no: {type: int}
"""

BAD = [
    pytest.param(
        ORDER + "  Line:\n    primary_key: [order_id, line_no]  # <-\n    fields:\n"
        "      order_id: {type: int, primary_key: true}\n      line_no: {type: int}\n",
        "model Line lists primary_key: [order_id, line_no] and marks order_id with "
        "primary_key: true; use one of the two forms",
        id="both-forms",
    ),
    pytest.param(
        ORDER + "  Line:\n    primary_key: [order_id, line]  # <-\n    fields:\n"
        "      order_id: {type: int}\n      line_no: {type: int}\n",
        "the primary_key of model Line names unknown field 'line'; its fields are: order_id, "
        "line_no",
        id="unknown-field-in-primary-key",
    ),
    pytest.param(
        ORDER
        + "  Line:\n    primary_key: order_id  # <-\n    fields:\n      order_id: {type: int}\n",
        "option 'primary_key' of model Line must be a list of field names, such as "
        "[order_id, line_no], not 'order_id'",
        id="primary-key-not-a-list",
    ),
    pytest.param(
        ORDER + "  Line:\n    primary_key: [id, line_no]\n    fields:\n"
        "      id: {type: int, auto_increment: true}  # <-\n      line_no: {type: int}\n",
        "model Line has a composite primary key (id, line_no), so field Line.id cannot be "
        "auto_increment (no engine here numbers one column of a composite key)",
        id="composite-key-with-auto-increment",
    ),
    pytest.param(
        ORDER.replace("auto_increment: true}", "auto_increment: true}  # <-")
        + "      code: {type: str, primary_key: true}\n",
        "model Order has a composite primary key (id, code), so field Order.id cannot be "
        "auto_increment",
        id="flagged-composite-key-with-auto-increment",
    ),
    pytest.param(
        ORDER + "  Line:\n    primary_key: [order_id, line_no]\n    fields:\n"
        "      order_id: {type: int}\n      line_no: {type: int, nullable: true}  # <-\n",
        "primary key field Line.line_no cannot be nullable",
        id="nullable-key-field",
    ),
    pytest.param(
        ORDER + LINE + '    checks:\n      - {expression: "line_no > 0"}  # <-\n',
        "a check of model Line has no name; add name: (checks are added and dropped by name)",
        id="check-without-name",
    ),
    pytest.param(
        ORDER + LINE + "    checks:\n      - {name: line_positive}  # <-\n",
        'a check of model Line has no expression; add expression: "<SQL>"',
        id="check-without-expression",
    ),
    pytest.param(
        ORDER + LINE + "    checks:\n      - {name: line_positive, sql: x}  # <-\n",
        "unknown option 'sql' in a check of model Line; allowed: name, expression",
        id="check-unknown-option",
    ),
    pytest.param(
        ORDER + LINE + "    checks: {name: x}  # <-\n",
        "the checks of model Line must be a list of {name: ..., expression: ...}",
        id="checks-not-a-list",
    ),
    pytest.param(
        ORDER + "      n: {type: int, server_default: now}  # <-\n",
        "server_default now of field Order.n needs type datetime, not int",
        id="server-default-now-on-int",
    ),
    pytest.param(
        ORDER + "      token: {type: str, server_default: uuid}  # <-\n",
        "server_default uuid of field Order.token needs type uuid, not str",
        id="server-default-uuid-on-str",
    ),
    pytest.param(
        ORDER + "      at: {type: datetime, server_default: today}  # <-\n",
        "option 'server_default' of field Order.at must be now, uuid or "
        "{sql: \"<SQL expression>\"}, not 'today'",
        id="server-default-unknown-word",
    ),
    pytest.param(
        ORDER + "      at: {type: datetime, server_default: {sql: ''}}  # <-\n",
        "option 'server_default' of field Order.at must be now, uuid or",
        id="server-default-empty-sql",
    ),
    pytest.param(
        ORDER + "      n: {type: int, default: 1, server_default: {sql: '2'}}  # <-\n",
        "field Order.n has both default and server_default; keep one",
        id="default-and-server-default",
    ),
    pytest.param(
        "models:\n  Key:\n    fields:\n"
        "      id: {type: uuid, primary_key: true, server_default: uuid}  # <-\n",
        "primary key field Key.id cannot have a server_default",
        id="server-default-on-the-key",
    ),
    pytest.param(
        ORDER + "      total: {type: int}\n      sum: {type: int, db_name: Total}  # <-\n",
        "field Order.sum (db_name 'Total') and field Order.total both map to column 'Total' "
        "(column names are compared case-insensitively); give each its own db_name",
        id="db-name-collision",
    ),
    pytest.param(
        ORDER + "      a: {type: int, db_name: X}\n      b: {type: int, db_name: X}  # <-\n",
        "field Order.b (db_name 'X') and field Order.a both map to column 'X'",
        id="db-name-twice",
    ),
    pytest.param(
        ORDER + "      a: {type: int, db_name: x.y}  # <-\n",
        "option 'db_name' of field Order.a must be a column name (no dots, at most 63 bytes), "
        "not 'x.y'",
        id="db-name-with-a-dot",
    ),
    pytest.param(
        ORDER
        + "      a: {type: int, db_name: created_at}  # <-\n".replace("fields:", "fields:")
        + "    timestamps: true\n",
        "field Order.a (db_name 'created_at') and field Order.created_at both map to column "
        "'created_at'",
        id="db-name-on-a-managed-column",
    ),
    pytest.param(
        ORDER + LINE + "  Ship:\n    fields:\n      id: {type: int, primary_key: true}\n"
        "      line_id: {type: int, references: {model: Line}}  # <-\n",
        "field Ship.line_id references Line, whose primary key is composite (order_id, "
        "line_no); set field:, or list the columns in the model's foreign_keys:",
        id="reference-to-a-composite-key",
    ),
    pytest.param(
        ORDER + LINE + "  Ship:\n    fields:\n      id: {type: int, primary_key: true}\n"
        "      order_id: {type: int}\n    foreign_keys:\n"
        "      - {columns: [order_id], references: {model: Line}}  # <-\n",
        "a foreign key of model Ship has 1 column(s) (order_id) but references 2 field(s) of "
        "Line (order_id, line_no); give as many of each",
        id="foreign-key-arity",
    ),
    pytest.param(
        ORDER + "    foreign_keys:\n      - {columns: [boss], references: {model: Order}}  # <-\n",
        "a foreign key of model Order names unknown column 'boss'; its columns are: id",
        id="foreign-key-unknown-column",
    ),
    pytest.param(
        ORDER + "    foreign_keys:\n      - {columns: [id], references: {model: Ordr}}  # <-\n",
        "a foreign key of model Order references unknown model 'Ordr'; known models: Order",
        id="foreign-key-unknown-model",
    ),
    pytest.param(
        ORDER + LINE + "  Ship:\n    fields:\n      id: {type: int, primary_key: true}\n"
        "      order_id: {type: int}\n      line_no: {type: str}\n    foreign_keys:\n"
        "      - {columns: [order_id, line_no], references: {model: Line}}  # <-\n",
        "a foreign key of model Ship: Ship.line_no is str but references Line.line_no, which "
        "is int; give both the same type",
        id="foreign-key-types",
    ),
    pytest.param(
        ORDER + "    foreign_keys:\n      - {columns: [id]}  # <-\n",
        "a foreign key of model Order needs references: {model: ..., fields: [...]}",
        id="foreign-key-without-references",
    ),
    pytest.param(
        ORDER + LINE + "  Ship:\n    fields:\n      id: {type: int, primary_key: true}\n"
        "      order_id: {type: int}\n    relations:\n"
        "      line: {kind: belongs_to, model: Line, foreign_key: [order_id]}  # <-\n",
        "relation Ship.line (belongs_to Line) joins on 2 field(s) of Line (order_id, line_no) "
        "but foreign_key names 1; set foreign_key: a list of 2 fields of Ship",
        id="relation-arity",
    ),
    pytest.param(
        ORDER + LINE + "    relations:\n"
        "      orders: {kind: belongs_to_many, model: Order}  # <-\n",
        "relation Line.orders (belongs_to_many Order): Line has a composite primary key; "
        "belongs_to_many needs a one-field key on both sides",
        id="belongs-to-many-from-a-composite-key",
    ),
    pytest.param(
        ORDER + "    checks:\n      - {name: same, expression: id > 0}\n"
        "  Other:\n    fields:\n      id: {type: int, primary_key: true}\n"
        "    checks:\n      - {name: same, expression: id > 1}  # <-\n",
        "check name 'same' of model Other is already the name of a constraint of model Order",
        id="constraint-name-twice",
    ),
    pytest.param(
        ORDER + "  Line:\n    primary_key: [order_id, line_no]\n    fields:\n"
        "      order_id: {type: int}\n      line_no: {type: int}\n"
        "      secret: {type: str, encrypted: true}  # <-\n",
        "model Line has a composite primary key (order_id, line_no): encrypted field "
        "Line.secret is not supported",
        id="encrypted-field-with-a-composite-key",
    ),
    pytest.param(
        "models:\n  Doc:\n    engine: mongodb\n    primary_key: [a, b]  # <-\n    fields:\n"
        "      a: {type: int}\n      b: {type: int}\n",
        "model Doc has a composite primary key (a, b): MongoDB models take a one-field key",
        id="mongodb-composite-key",
    ),
    pytest.param(
        "models:\n  Doc:\n    engine: mongodb\n    fields:\n      id: {type: int, primary_key: true}\n"
        "      a: {type: int, db_name: A}  # <-\n",
        "option 'db_name' of field Doc.a works on SQL models only (not engine: mongodb)",
        id="mongodb-db-name",
    ),
]


def _marked(path: Path) -> int:
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.rstrip().endswith("# <-"))


@pytest.mark.parametrize(("text", "sentence"), BAD)
def test_bad_schemas_are_reported_at_their_line_and_nothing_is_written(
    tmp_path: Path, text: str, sentence: str
) -> None:
    path = _write(tmp_path / "schemas", text)
    with pytest.raises(SchemaError) as caught:
        generate(tmp_path / "schemas", tmp_path / "out", "app", root=tmp_path)
    found = [p for p in caught.value.problems if sentence in str(p)]
    assert found, f"no {sentence!r} in:\n{caught.value}"
    assert (found[0].file, found[0].line) == (str(path), _marked(path)), str(found[0])
    assert not (tmp_path / "out").exists()


# 3. Generated code and DDL


def test_committed_test_models_are_what_their_schema_generates() -> None:
    result = generate(SHOP, TEST_MODELS, "shop", check=True)
    assert result.up_to_date, f"stale: {result.stale} extra: {result.extra}"


def test_generated_models_use_the_composite_key_and_the_column_names() -> None:
    source = (TEST_MODELS / "shop" / "order_line.py").read_text()
    for line in (
        'primary_key=("order_id", "line_no"),',
        'ColumnMeta("line_no", "int", db_name="Line No", primary_key=True),',
        'ColumnMeta("placed_at", "datetime", server_default=True),',
        'line_no: Final = Column[int]("JckOrderLines.Line No")',
        "delete: ClassVar[KeyedDelete[tuple[int, int]]] = KeyedDelete()",
        "async def find(cls, key: tuple[int, int]) -> OrderLine:",
        "async def find_or_none(cls, key: tuple[int, int]) -> OrderLine | None:",
        "    async def update(cls, key: tuple[int, int], **values: Unpack[OrderLineUpdate])",
        "    placed_at: datetime.datetime = auto()",
        "    placed_at: NotRequired[datetime.datetime]",  # create: the server fills it
        'foreign_key=("order_id", "line_no"),',
    ):
        assert line in source, line
    pivot = (TEST_MODELS / "shop" / "article_label.py").read_text()
    assert "class ArticleLabelCreate(TypedDict):\n" in pivot
    assert "    article_id: int\n    label_id: int\n" in pivot  # both parts of the key required


PYTHON_FORM = TEST_MODELS / "python_schemas" / "shop.py"


def test_yaml_and_python_forms_generate_the_same_code(tmp_path: Path) -> None:
    (tmp_path / "py").mkdir()
    shutil.copy(PYTHON_FORM, tmp_path / "py" / "shop.py")
    shutil.copytree(SHOP, tmp_path / "yaml")
    generate(tmp_path / "yaml", tmp_path / "out_yaml", "shop", root=tmp_path)
    generate(tmp_path / "py", tmp_path / "out_py", "shop", root=tmp_path)
    files = sorted(p.name for p in (tmp_path / "out_yaml" / "shop").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "out_py" / "shop").iterdir())
    for name in files:
        a = (tmp_path / "out_yaml" / "shop" / name).read_bytes().partition(b"\n")[2]
        b = (tmp_path / "out_py" / "shop" / name).read_bytes().partition(b"\n")[2]
        assert a == b, name


def _create(schema: Schema, table: str) -> ops.CreateTable:
    plan = diff(None, schema)
    return next(
        op
        for c in plan.changes
        for op in c.up
        if isinstance(op, ops.CreateTable) and op.name == table
    )


def test_tables_name_columns_keys_constraints_and_defaults_for_the_database(
    tmp_path: Path,
) -> None:
    schema = _load(tmp_path, EXAMPLE)
    table = tables(schema)["OrderLines"]
    assert list(table.columns) == ["OrderId", "Line No", "price", "placed_at", "token", "note"]
    assert table.primary_key == ("OrderId", "Line No") and table.key == ("OrderId", "Line No")
    assert not any(c.primary for c in table.columns.values())
    assert list(table.foreign_keys) == ["order_lines_order_fk"]
    assert list(table.checks) == ["order_lines_price_not_negative"]
    shipments = tables(schema)["shipments"].foreign_keys
    (fk,) = shipments.values()
    assert (fk.columns, fk.table, fk.references) == (
        ("order_id", "line_no"),
        "OrderLines",
        ("OrderId", "Line No"),
    )
    assert list(tables(schema)["post_tags"].foreign_keys) == [
        "post_tags_post_fk",
        "post_tags_tag_id_fkey",
    ]

    create = _create(schema, "OrderLines")
    sql = {
        "postgres": PostgresDdl(PostgresCompiler()).compile(create)[0],
        "mysql": MySQLDdl(MySQLCompiler()).compile(create)[0],
        "sqlite": SQLiteDdl(SQLiteCompiler()).compile(create)[0],
    }
    assert '"token" UUID NOT NULL DEFAULT gen_random_uuid()' in sql["postgres"]
    assert '"placed_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP' in sql["postgres"]
    assert "\"note\" TEXT DEFAULT ('none')" in sql["postgres"]
    assert 'PRIMARY KEY ("OrderId", "Line No")' in sql["postgres"]
    assert 'CONSTRAINT "order_lines_price_not_negative" CHECK (price >= 0)' in sql["postgres"]
    assert "`token` CHAR(36) NOT NULL DEFAULT (UUID())" in sql["mysql"]
    assert "`placed_at` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)" in sql["mysql"]
    assert "`token` CHAR(36) NOT NULL DEFAULT (lower(hex(randomblob(4)) ||" in sql["sqlite"]
    assert "PRIMARY KEY (`OrderId`, `Line No`)" in sql["sqlite"]


def test_checks_compile_per_engine_and_sqlite_rebuilds_for_them() -> None:
    add, drop = ops.AddCheck("t", "t_positive", "n > 0"), ops.DropCheck("t", "t_positive")
    postgres = PostgresDdl(PostgresCompiler())
    assert postgres.compile(add) == ['ALTER TABLE "t" ADD CONSTRAINT "t_positive" CHECK (n > 0)']
    assert postgres.compile(drop) == ['ALTER TABLE "t" DROP CONSTRAINT "t_positive"']
    assert MySQLDdl(MySQLCompiler()).compile(drop) == [
        "ALTER TABLE `t` DROP CONSTRAINT `t_positive`"
    ]
    with pytest.raises(UnsupportedOperation, match="table rebuild"):
        SQLiteDdl(SQLiteCompiler()).compile(add)


# 4. makemigrations


def test_the_first_migration_creates_keys_checks_and_defaults(tmp_path: Path) -> None:
    _write(tmp_path / "schemas", EXAMPLE)
    result = make_migration(tmp_path / "schemas", tmp_path / "migrations", "create")
    assert result.path is not None
    source = result.path.read_text()
    for line in (
        "from jadugar import QueryBuilder, fn",
        "from jadugar.migrations import ForeignKeyReference, Migration, uuid_default",
        '            t.primary(["OrderId", "Line No"])',
        '            t.check("order_lines_price_not_negative", "price >= 0")',
        '            t.timestamp("placed_at").not_null().default_to(fn.now())',
        '            t.uuid("token").not_null().default_to(uuid_default())',
        '            t.text("note").default_to(fn.raw("\'none\'"))',
        'name="post_tags_post_fk"',
    ):
        assert line in source, line
    compile(source, str(result.path), "exec")
    assert make_migration(tmp_path / "schemas", tmp_path / "migrations", "x", check=True).empty


def _changed(tmp_path: Path, *edits: tuple[str, str]) -> tuple[Schema, Schema]:
    old = _load(tmp_path / "old", EXAMPLE)
    text = EXAMPLE
    for before, after in edits:
        assert before in text, before
        text = text.replace(before, after)
    return old, _load(tmp_path / "new", text)


def _summaries(old: Schema, new: Schema) -> list[str]:
    return [c.summary for c in diff(old, new).changes]


def test_nothing_changed_is_no_change(tmp_path: Path) -> None:
    old, new = _changed(tmp_path)
    assert diff(old, new).empty


def test_a_changed_check_is_dropped_and_added_again(tmp_path: Path) -> None:
    old, new = _changed(tmp_path, ('expression: "price >= 0"', 'expression: "price > 0"'))
    plan = diff(old, new)
    assert [c.summary for c in plan.changes] == [
        "drop check OrderLines.order_lines_price_not_negative (its expression changed: "
        "dropped, then added again)",
        "add check OrderLines.order_lines_price_not_negative",
    ]
    assert plan.changes[0].up == [ops.DropCheck("OrderLines", "order_lines_price_not_negative")]
    assert plan.changes[0].down == [
        ops.AddCheck("OrderLines", "order_lines_price_not_negative", "price >= 0")
    ]
    assert plan.changes[1].up == [
        ops.AddCheck("OrderLines", "order_lines_price_not_negative", "price > 0")
    ]
    assert plan.warnings == [
        "add check OrderLines.order_lines_price_not_negative: fails if existing rows break "
        "the check"
    ]


def test_checks_added_and_dropped(tmp_path: Path) -> None:
    old, new = _changed(
        tmp_path,
        (
            '{name: order_lines_price_not_negative, expression: "price >= 0"}',
            '{name: order_lines_price_small, expression: "price < 100"}',
        ),
    )
    assert _summaries(old, new) == [
        "drop check OrderLines.order_lines_price_not_negative",
        "add check OrderLines.order_lines_price_small",
    ]


def test_server_default_changes_alter_the_column_default(tmp_path: Path) -> None:
    old, new = _changed(
        tmp_path,
        ("placed_at: {type: datetime, server_default: now}", "placed_at: {type: datetime}"),
        ("server_default: {sql: \"'none'\"}", "server_default: {sql: \"'n/a'\"}"),
        ("token: {type: uuid, server_default: uuid}", "token: {type: uuid, nullable: true}"),
    )
    plan = diff(old, new)
    assert [c.summary for c in plan.changes] == [
        "alter column OrderLines.placed_at (default)",
        "alter column OrderLines.token (default, nullable)",
        "alter column OrderLines.note (default)",
    ]
    (up,) = plan.changes[2].up
    assert isinstance(up, ops.AlterColumn) and up.changes == {"default"}
    assert (
        ops.same_default(up.column.default, ops.ColumnDefinition("x", "text", default=None).default)
        is False
    )
    source = migration_source("defaults", plan)
    assert "default=fn.raw(\"'n/a'\")" in source and "default=fn.now()" in source


def test_a_foreign_key_renamed_is_dropped_and_added(tmp_path: Path) -> None:
    old, new = _changed(tmp_path, ("name: order_lines_order_fk}", "name: order_lines_to_order}"))
    assert _summaries(old, new) == [
        "drop foreign key OrderLines.order_lines_order_fk",
        "add foreign key OrderLines.order_lines_to_order",
    ]


def test_a_db_name_change_renames_the_column(tmp_path: Path) -> None:
    old, new = _changed(
        tmp_path,
        ('line_no: {type: int, db_name: "Line No"}', "line_no: {type: int, db_name: LineNo}"),
        ("placed_at: {type: datetime,", "placed_at: {type: datetime, db_name: PlacedAt,"),
    )
    plan = diff(old, new)
    assert [c.summary for c in plan.changes] == [
        "rename column OrderLines.Line No to LineNo",
        "rename column OrderLines.placed_at to PlacedAt",
    ]
    assert plan.changes[0].up == [ops.RenameColumn("OrderLines", "Line No", "LineNo")]


def test_changing_the_primary_key_of_a_table_is_refused(tmp_path: Path) -> None:
    old, new = _changed(
        tmp_path, ("primary_key: [order_id, line_no]", "primary_key: [line_no, order_id]")
    )
    with pytest.raises(MigrationError, match=r"primary key of table OrderLines changes from "
                       r"\(OrderId, Line No\) to \(Line No, OrderId\)"):  # fmt: skip
        diff(old, new)


def test_snapshots_name_the_new_options_only_where_they_are_used(tmp_path: Path) -> None:
    schema = _load(tmp_path, EXAMPLE)
    text = snapshot_text(schema)
    for key in ('"composite_key"', '"db_name"', '"server_default"', '"checks"', '"foreign_keys"'):
        assert key in text, key
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "schema_snapshot.json").write_text(text)
    read = read_snapshot(tmp_path / "m")
    assert read is not None and diff(read, schema).empty  # (decimals come back as text)
    line, again = schema.model("OrderLine"), read.model("OrderLine")
    assert line is not None and again is not None
    assert without_locations(again)["composite_key"] == ["order_id", "line_no"]
    for key in ("checks", "foreign_keys"):
        assert without_locations(again)[key] == without_locations(line)[key]
    plain = snapshot_text(load_schema(ROOT / "schemas"))
    for key in ('"composite_key"', '"db_name"', '"server_default"', '"checks"', '"foreign_keys"'):
        assert key not in plain, key
    references = [
        f["references"]
        for m in json.loads(plain)["models"]
        for f in m["fields"]
        if f["references"] is not None
    ]
    assert references and all("name" not in r for r in references)
