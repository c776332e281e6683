"""The example blog's tables, created from the schema IR for the model tests.

A stand-in until migrations exist: each engine's column type per schema type, written
here once. Only tests use it.
"""

from __future__ import annotations

from pathlib import Path

from jadugar import DatabaseManager
from jadugar_generator.schema.loader import load_schema
from jadugar_generator.schema.model import FieldSpec, ModelSpec, Schema

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"

_TYPES: dict[str, dict[str, str]] = {
    "postgres": {
        "int": "INTEGER", "bigint": "BIGINT", "smallint": "SMALLINT",
        "float": "DOUBLE PRECISION", "decimal": "NUMERIC({p}, {s})", "str": "VARCHAR({n})",
        "text": "TEXT", "bool": "BOOLEAN", "date": "DATE", "time": "TIME",
        "datetime": "TIMESTAMPTZ", "uuid": "UUID", "json": "JSONB", "bytes": "BYTEA",
        "enum": "VARCHAR(50)", "auto": "SERIAL PRIMARY KEY",
    },
    "mysql": {
        "int": "INTEGER", "bigint": "BIGINT", "smallint": "SMALLINT", "float": "DOUBLE",
        "decimal": "DECIMAL({p}, {s})", "str": "VARCHAR({n})", "text": "TEXT",
        "bool": "BOOLEAN", "date": "DATE", "time": "TIME", "datetime": "DATETIME(6)",
        "uuid": "CHAR(36)", "json": "JSON", "bytes": "LONGBLOB", "enum": "VARCHAR(50)",
        "auto": "INTEGER AUTO_INCREMENT PRIMARY KEY",
    },
    "sqlite": {
        "int": "INTEGER", "bigint": "INTEGER", "smallint": "INTEGER", "float": "REAL",
        "decimal": "NUMERIC({p}, {s})", "str": "VARCHAR({n})", "text": "TEXT",
        "bool": "BOOLEAN", "date": "DATE", "time": "TIME", "datetime": "TIMESTAMP",
        "uuid": "CHAR(36)", "json": "JSON", "bytes": "BLOB", "enum": "VARCHAR(50)",
        "auto": "INTEGER PRIMARY KEY AUTOINCREMENT",
    },
}  # fmt: skip


def _column(engine: str, db: DatabaseManager, field: FieldSpec) -> str:
    types = _TYPES[engine]
    name = db.query.quote(field.name)
    if field.primary_key and field.auto_increment:
        return f"{name} {types['auto']}"
    sql_type = types[field.type].format(p=field.precision, s=field.scale, n=field.max_length or 255)
    parts = [name, sql_type]
    if field.primary_key:
        parts.append("PRIMARY KEY")
    if not field.nullable:
        parts.append("NOT NULL")
    if field.unique:
        parts.append("UNIQUE")
    return " ".join(parts)


def create_statements(engine: str, db: DatabaseManager, schema: Schema) -> list[str]:
    suffix = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" if engine == "mysql" else ""
    statements = []
    for model in _ordered(schema):
        columns = [_column(engine, db, f) for f in model.fields]
        for f in model.fields:
            if f.references is not None:
                target = schema.model(f.references.model)
                assert target is not None
                action = f.references.on_delete.replace("_", " ").upper()
                columns.append(
                    f"FOREIGN KEY ({db.query.quote(f.name)}) REFERENCES "
                    f"{db.query.quote(target.table)} ({db.query.quote(f.references.field)})"
                    f" ON DELETE {action}"
                )
        statements.append(
            f"CREATE TABLE {db.query.quote(model.table)} ({', '.join(columns)}){suffix}"
        )
    for model in schema.models:
        for relation in model.relations:
            if relation.kind == "belongs_to_many" and relation.model > model.name:
                q = db.query.quote
                assert relation.through and relation.foreign_key and relation.other_key
                statements.append(
                    f"CREATE TABLE {q(relation.through)} ({q(relation.foreign_key)} INTEGER NOT NULL,"
                    f" {q(relation.other_key)} INTEGER NOT NULL,"
                    f" PRIMARY KEY ({q(relation.foreign_key)}, {q(relation.other_key)})){suffix}"
                )
    return statements


def table_names(schema: Schema) -> list[str]:
    pivots = [
        r.through
        for m in schema.models
        for r in m.relations
        if r.kind == "belongs_to_many" and r.through and r.model > m.name
    ]
    return pivots + [m.table for m in reversed(_ordered(schema))]


def _ordered(schema: Schema) -> list[ModelSpec]:
    """Referenced tables before the tables that reference them."""
    done: list[ModelSpec] = []
    pending = list(schema.models)
    while pending:
        for model in pending:
            targets = {f.references.model for f in model.fields if f.references}
            if targets <= {m.name for m in done} | {model.name}:
                done.append(model)
                pending.remove(model)
                break
        else:
            raise AssertionError("reference cycle in the example schema")
    return done


async def create_blog_tables(engine: str, db: DatabaseManager) -> None:
    schema = load_schema(SCHEMAS)
    await drop_blog_tables(db)
    for statement in create_statements(engine, db, schema):
        await db.query.raw(statement)


async def drop_blog_tables(db: DatabaseManager) -> None:
    schema = load_schema(SCHEMAS)
    for table in table_names(schema):
        await db.query.raw(f"DROP TABLE IF EXISTS {db.query.quote(table)}")
