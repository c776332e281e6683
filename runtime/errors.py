"""The exception tree of SPEC 11. Imports no driver: drivers translate into these."""

from __future__ import annotations


class JadugarError(Exception):
    """Base of every error Jadugar raises."""


class ConfigurationError(JadugarError):
    """A bad URL or option. ``field`` names the option; no password ever appears."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DatabaseConnectionError(JadugarError):
    """The server could not be reached, refused us, or the connection broke."""


class PoolTimeoutError(JadugarError):
    """No connection became free within ``acquire_timeout``."""

    def __init__(self, message: str, *, in_use: int, size: int, max_size: int) -> None:
        super().__init__(message)
        self.in_use = in_use
        self.size = size
        self.max_size = max_size


class QueryError(JadugarError):
    """A statement failed. Carries the SQL and the server's code, never the parameters."""

    def __init__(
        self,
        message: str,
        *,
        sql: str | None = None,
        code: str | None = None,
        orig: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.sql = sql
        self.code = code
        self.orig = orig

    def __str__(self) -> str:
        text = super().__str__()
        if self.code:
            text = f"{text} [code {self.code}]"
        if self.sql:
            text = f"{text}\n  SQL: {self.sql}"
        return text


class IntegrityError(QueryError):
    """A unique, foreign key, not-null or check constraint refused the write."""

    def __init__(
        self,
        message: str,
        *,
        sql: str | None = None,
        code: str | None = None,
        orig: BaseException | None = None,
        constraint: str | None = None,
        kind: str | None = None,
    ) -> None:
        super().__init__(message, sql=sql, code=code, orig=orig)
        self.constraint = constraint
        self.kind = kind


class SerializationError(QueryError):
    """Serialization failure, deadlock or lock wait timeout: the transaction may be retried."""


class QueryTimeoutError(QueryError):
    """A statement ran past its timeout and was cancelled on the server."""


class NotFoundError(JadugarError):
    """``find`` found no row for the key."""


class RelationNotLoadedError(JadugarError):
    """A relation attribute was read before it was loaded (``with_`` or ``load``)."""


class ValidationError(JadugarError):
    """Data refused before it reached the database; ``errors`` lists field paths."""

    def __init__(self, message: str, *, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class TransactionError(JadugarError):
    """A transaction was used wrongly (after it ended, across tasks, …)."""


class UnsafeQueryError(JadugarError):
    """``update()`` or ``delete()`` without a ``where`` and without ``.all_rows()``."""


class ReadOnlyError(JadugarError):
    """A write refused before it reached the server: the manager is read-only
    (``DatabaseOptions(read_only=True)``) or the statement was headed for a read replica."""

    def __init__(
        self,
        operation: str,
        table: str | None,
        where: str,
        hint: str = "run writes through a manager without read_only=True",
    ) -> None:
        on = f" on {table!r}" if table else ""
        super().__init__(f"{operation}{on} refused: {where} is read-only; {hint}")
        self.operation = operation
        self.table = table


class UnsupportedOperation(JadugarError):
    """The dialect cannot do this operation."""

    def __init__(self, operation: str, dialect: str, hint: str = "") -> None:
        message = f"{operation} is not supported on {dialect}"
        if hint:
            message = f"{message}: {hint}"
        super().__init__(message)
        self.operation = operation
        self.dialect = dialect


class EncryptionError(JadugarError):
    """An encrypted field used in a way encryption does not allow (a condition on a field
    that is not ``searchable``, a bulk update), or keys that cannot do what is asked."""


class DecryptionError(EncryptionError):
    """A stored ciphertext does not decrypt: tampered with, copied from another row or
    column, or sealed with a key id the configuration does not hold."""


class MigrationError(JadugarError):
    """A migration could not be planned, applied or rolled back."""


class MigrationLockError(MigrationError):
    """The migration lock could not be taken."""


class MigrationChecksumError(MigrationError):
    """An applied migration file was edited afterwards."""


class SchemaError(JadugarError):
    """A schema file is invalid; ``file`` and ``line`` say where.

    ``problems`` lists every problem found (just this error when there is one)::

        for problem in exc.problems:
            print(problem.file, problem.line, problem.reason)
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        problems: list[SchemaError] | None = None,
    ) -> None:
        where = ""
        if file:
            where = f"{file}:{line}: " if line else f"{file}: "
        super().__init__(f"{where}{message}")
        self.file = file
        self.line = line
        self.reason = message
        self.problems: list[SchemaError] = list(problems or [self])

    @classmethod
    def combine(cls, problems: list[SchemaError]) -> SchemaError:
        """One error for several problems: its message lists them, one "file:line: …" a line."""
        if len(problems) == 1:
            return problems[0]
        listing = "\n".join(str(p) for p in problems)
        return cls(f"{len(problems)} problems in the schema files:\n{listing}", problems=problems)


__all__ = [
    "ConfigurationError",
    "DatabaseConnectionError",
    "IntegrityError",
    "JadugarError",
    "MigrationChecksumError",
    "MigrationError",
    "MigrationLockError",
    "NotFoundError",
    "PoolTimeoutError",
    "QueryError",
    "QueryTimeoutError",
    "ReadOnlyError",
    "RelationNotLoadedError",
    "SchemaError",
    "SerializationError",
    "TransactionError",
    "UnsafeQueryError",
    "UnsupportedOperation",
    "ValidationError",
]
