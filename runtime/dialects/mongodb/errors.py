"""PyMongo / motor / mongomock exceptions -> ``jadugar.errors``, in one place.

Called only after a driver call failed, so importing ``pymongo.errors`` here (lazily, in
``translate``) costs nothing on the way in: ``import jadugar`` never loads PyMongo.

No message carries a document value: a duplicate key names the index and the collection
(the server's ``E11000 … dup key: { email: "a@b.c" }`` stays on ``.orig``); other server
messages lose their ``{…}`` documents and every string value of the operation.
``QueryError.sql`` holds the operation's shape with every value replaced by ``?``
(``users.find({"email": ?})``), the MongoDB counterpart of a statement with placeholders.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from ...errors import (
    ConfigurationError,
    DatabaseConnectionError,
    IntegrityError,
    JadugarError,
    QueryError,
    QueryTimeoutError,
    SerializationError,
    UnsupportedOperation,
)
from ..failures import connection_failed, redact_values
from .ops import Aggregate, Count, DeleteMany, Find, InsertMany, MongoOperation, UpdateMany

DUPLICATE_KEY_CODES = frozenset({11000, 11001, 12582})
_TIMEOUT_CODES = frozenset({50, 64, 262})  # MaxTimeMSExpired, WriteConcernFailed, ExceededTimeLimit
_INDEX_RE = re.compile(r"\bindex: (\S+) dup key")
_KEY_PATTERN_RE = re.compile(r"'keyPattern': (\{[^{}]*\})")
_DOCUMENT_RE = re.compile(r"\{.*\}", re.DOTALL)
_SHAPE_LIMIT = 400


# ---------------------------------------------------------------------------------------
# The operation, without its values


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{key!r}: {_shape(item)}" for key, item in value.items())
        return "{" + inner + "}"
    if isinstance(value, list | tuple) and value and all(isinstance(v, dict) for v in value):
        return "[" + ", ".join(_shape(item) for item in value) + "]"
    return "?"


def describe(op: MongoOperation | str | None) -> str | None:
    """``users.find({'email': ?}).sort(name=1).limit(?)``: what ran, never a value."""
    if op is None or isinstance(op, str):
        return op
    name = op.collection
    if isinstance(op, Find):
        text = f"{name}.find({_shape(op.filter)}"
        text += f", {_shape(op.projection)})" if op.projection is not None else ")"
        if op.sort:
            text += ".sort(" + ", ".join(f"{f}={d}" for f, d in op.sort) + ")"
        if op.skip:
            text += ".skip(?)"
        if op.limit:
            text += ".limit(?)"
    elif isinstance(op, Aggregate):
        text = f"{name}.aggregate({_shape(list(op.pipeline))})"
    elif isinstance(op, Count):
        text = f"{name}.count_documents({_shape(op.filter)})"
    elif isinstance(op, InsertMany):
        text = f"{name}.insert_many(<{len(op.documents)} documents>)"
    elif isinstance(op, UpdateMany):
        text = f"{name}.update_many({_shape(op.filter)}, {_shape(op.update)}"
        text += ", upsert=True)" if op.upsert else ")"
    else:
        text = f"{name}.delete_many({_shape(op.filter)})"
    return text if len(text) <= _SHAPE_LIMIT else text[: _SHAPE_LIMIT - 3] + "..."


def _strings_in(value: Any, found: list[str]) -> list[str]:
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _strings_in(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _strings_in(item, found)
    return found


def _values_of(op: MongoOperation | str | None) -> list[str]:
    if op is None or isinstance(op, str):
        return []
    if isinstance(op, Find):
        parts: list[Any] = [op.filter]
    elif isinstance(op, Aggregate):
        parts = list(op.pipeline)
    elif isinstance(op, Count | DeleteMany):
        parts = [op.filter]
    elif isinstance(op, InsertMany):
        parts = list(op.documents)
    else:
        parts = [op.filter, op.update]
    found: list[str] = []
    for part in parts:
        _strings_in(part, found)
    return sorted(set(found), key=len, reverse=True)  # longest first: no partial leftovers


def _clean(message: str, op: MongoOperation | str | None) -> str:
    """A server message without documents and without the operation's string values."""
    message = _DOCUMENT_RE.sub("{…}", message)
    return redact_values(message, _values_of(op)).strip()


# ---------------------------------------------------------------------------------------
# Duplicate keys


def duplicate_key_pattern(exc: BaseException) -> dict[str, Any] | None:
    """The key pattern (``{"email": 1}``) of the unique index a duplicate key hit."""
    details = _write_error(exc) or getattr(exc, "details", None)
    pattern = details.get("keyPattern") if isinstance(details, dict) else None
    if isinstance(pattern, dict):
        return dict(pattern)
    # mongomock's bulk write errors only carry it inside the message text
    message = details.get("errmsg") if isinstance(details, dict) else None
    match = _KEY_PATTERN_RE.search(message) if isinstance(message, str) else None
    if match is None:
        return None
    try:
        parsed = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return None
    return parsed if isinstance(parsed, dict) else None


def index_name_from(exc: BaseException) -> str | None:
    """The index name the server wrote into a duplicate key message (real servers do;
    mongomock does not: the driver then looks it up by key pattern)."""
    details = _write_error(exc) or getattr(exc, "details", None)
    message = details.get("errmsg") if isinstance(details, dict) else None
    match = _INDEX_RE.search(message if isinstance(message, str) else str(exc))
    return match.group(1) if match else None


def default_index_name(pattern: dict[str, Any]) -> str:
    """MongoDB's default index name for a key pattern: ``{"a": 1, "b": -1}`` -> ``a_1_b_-1``."""
    return "_".join(f"{key}_{direction}" for key, direction in pattern.items())


def _write_error(exc: BaseException) -> dict[str, Any] | None:
    """The first write error of a BulkWriteError (``insert_many`` failures)."""
    details = getattr(exc, "details", None)
    if isinstance(details, dict):
        errors = details.get("writeErrors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0]
    return None


def _code_of(exc: BaseException) -> int | None:
    first = _write_error(exc)
    if first is not None and isinstance(first.get("code"), int):
        return int(first["code"])
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def is_duplicate_key(exc: BaseException) -> bool:
    return _code_of(exc) in DUPLICATE_KEY_CODES


# ---------------------------------------------------------------------------------------
# The translation


def translate(
    exc: BaseException,
    operation: MongoOperation | str | None,
    *,
    index_name: str | None = None,
) -> JadugarError:
    """Map a driver exception raised while running ``operation`` to the Jadugar error
    tree (``raise translate(exc, op) from exc``); ``.orig`` keeps the driver's exception.

    ``index_name``: the unique index a duplicate key hit, when the caller found it (the
    driver looks it up when the server message does not say).
    """
    if isinstance(exc, JadugarError):
        return exc
    from pymongo import errors as pm

    shape = describe(operation)
    where = f" in {shape.partition('(')[0]}" if shape else ""
    if isinstance(exc, NotImplementedError):  # mongomock: a feature it does not emulate
        what = shape.partition("(")[0] if shape else "this operation"
        return UnsupportedOperation(what, "mongomock", _clean(str(exc), operation))
    if isinstance(exc, pm.ServerSelectionTimeoutError):
        return DatabaseConnectionError(
            f"MongoDB server not reachable{where}: no suitable server within the "
            f"server selection timeout ({_clean(str(exc).split(',')[0], operation)})"
        )
    if isinstance(exc, TimeoutError) or (
        isinstance(exc, pm.PyMongoError) and exc.timeout and not isinstance(exc, pm.AutoReconnect)
    ):
        return QueryTimeoutError(
            f"MongoDB operation ran past its timeout{where}",
            sql=shape,
            code=str(_code_of(exc) or 50),
            orig=exc,
        )
    if isinstance(exc, pm.NetworkTimeout):
        return QueryTimeoutError(
            f"MongoDB operation timed out on the network{where}", sql=shape, orig=exc
        )
    if isinstance(exc, pm.ConnectionFailure):
        return DatabaseConnectionError(
            f"MongoDB connection lost or unusable{where}: {_clean(str(exc), operation)}"
        )
    if isinstance(exc, pm.ConfigurationError | pm.InvalidURI):
        return ConfigurationError(f"MongoDB client option: {_clean(str(exc), operation)}")
    if isinstance(exc, pm.InvalidOperation) and "after close" in str(exc):
        return DatabaseConnectionError(f"MongoDB client is closed{where}")

    code = _code_of(exc)
    code_text = str(code) if code is not None else None
    if code in DUPLICATE_KEY_CODES:
        name = index_name or index_name_from(exc)
        if name is None:
            pattern = duplicate_key_pattern(exc)
            name = default_index_name(pattern) if pattern else None
        collection = getattr(operation, "collection", None)
        target = f" of collection {collection!r}" if collection else ""
        index = f"unique index {name!r}" if name else "a unique index"
        return IntegrityError(
            f"duplicate key: {index}{target} refused the write",
            sql=shape,
            code=code_text,
            orig=exc,
            constraint=name,
            kind="unique",
        )
    if isinstance(exc, pm.OperationFailure):
        labels = exc.details.get("errorLabels") if isinstance(exc.details, dict) else None
        code_name = exc.details.get("codeName") if isinstance(exc.details, dict) else None
        first = _write_error(exc)
        raw = first.get("errmsg") if first is not None else None
        text = raw if isinstance(raw, str) else str(getattr(exc, "_message", "") or exc)
        message = _clean(text.split(", full error:")[0], operation)
        if code_name:
            message = f"{code_name}: {message}"
        if code in _TIMEOUT_CODES:
            return QueryTimeoutError(message, sql=shape, code=code_text, orig=exc)
        if (
            exc.has_error_label("TransientTransactionError")
            or code == 112
            or (isinstance(labels, list) and "TransientTransactionError" in labels)
        ):
            return SerializationError(message, sql=shape, code=code_text, orig=exc)
        return QueryError(message, sql=shape, code=code_text, orig=exc)
    if isinstance(exc, pm.PyMongoError):
        return QueryError(_clean(str(exc), operation), sql=shape, code=code_text, orig=exc)
    # bson.errors.InvalidDocument and friends quote the value they could not encode
    if type(exc).__module__.startswith("bson"):
        return QueryError(
            f"a value could not be encoded as BSON{where} ({type(exc).__name__})",
            sql=shape,
            orig=exc,
        )
    # the client's own argument checks (and mongomock's emulation) raise plain Python errors
    return QueryError(
        f"MongoDB driver refused the operation{where}: {type(exc).__name__}: "
        f"{_clean(str(exc), operation)}",
        sql=shape,
        orig=exc,
    )


def connect_error(
    exc: BaseException, where: str, password: str | None = None
) -> DatabaseConnectionError | ConfigurationError:
    """A failure while creating the client or reaching the server at ``where``."""
    if isinstance(exc, ConfigurationError | DatabaseConnectionError):
        return exc
    from pymongo import errors as pm

    reason = "timed out" if isinstance(exc, TimeoutError) else (str(exc) or type(exc).__name__)
    if isinstance(exc, pm.ConfigurationError | pm.InvalidURI | TypeError | ValueError):
        text = redact_values(reason, [password] if password else None)
        return ConfigurationError(f"url: MongoDB client refused the options: {text}", field="url")
    return connection_failed(where, reason.split(", Timeout:")[0], password)
