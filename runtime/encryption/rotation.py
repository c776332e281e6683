"""``rotate_keys``: re-seal every encrypted value that is not under the active key.

Rows are read in primary key order, ``batch_size`` at a time, each batch in its own
transaction. A row is updated only where its ciphertexts are still the ones read
(``WHERE key = ? AND column = <old ciphertext>``): a concurrent save, which seals under the
active key anyway, is never overwritten. Values already under the active key are skipped,
so an interrupted rotation resumes by running again. Blind indexes do not depend on the
encryption keys and stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .envelope import key_id_of
from .fields import PLACEHOLDER, ModelCipher

if TYPE_CHECKING:
    from ..manager import DatabaseManager
    from ..models.base import Model
    from ..transaction import Transaction
    from .ring import KeyRing

DEFAULT_BATCH_SIZE = 500

Progress = Callable[[str, int, int], None]
"""``progress(model name, rows done, rows in all)``, called after each batch."""


@dataclass
class ModelRotation:
    model: str
    rows: int = 0  # rows read
    rotated: int = 0  # rows re-sealed
    values: int = 0  # values re-sealed
    skipped: int = 0  # rows changed by someone else between read and update


@dataclass
class RotationReport:
    key_id: str
    models: list[ModelRotation] = field(default_factory=list)

    @property
    def rotated(self) -> int:
        return sum(m.rotated for m in self.models)


def encrypted_models(models: Iterable[type[Model]]) -> list[type[Model]]:
    """The models of ``models`` that have encrypted fields, by name."""
    return sorted((m for m in models if m._cipher is not None), key=lambda m: m.__name__)


async def rotate_keys(
    db: DatabaseManager,
    models: Iterable[type[Model]],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> RotationReport:
    """Re-seal under ``db``'s active key every encrypted value of ``models`` sealed under
    another key. Models without encrypted fields are ignored."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    chosen = encrypted_models(models)
    report = RotationReport(key_id="")
    for model in chosen:
        cipher = model._cipher
        assert cipher is not None
        ring = cipher.ring(db.options.encryption)
        report.key_id = ring.key_id
        report.models.append(await _rotate_model(db, cipher, ring, batch_size, progress))
    return report


async def _rotate_model(
    db: DatabaseManager,
    cipher: ModelCipher,
    ring: KeyRing,
    batch_size: int,
    progress: Progress | None,
) -> ModelRotation:
    done = ModelRotation(cipher.model)
    total = await db.query.table(cipher.table).count()
    if progress is not None:
        progress(cipher.model, 0, total)
    pk = cipher.primary_key
    last: object = None
    while True:
        async with db.transaction() as tx:
            query = tx.table(cipher.table).select(pk, *cipher.names).order_by(pk).limit(batch_size)
            if last is not None:
                query = query.where(pk, ">", last)
            rows = await query.all()
            for row in rows:
                await _rotate_row(tx, cipher, ring, row, done)
        if not rows:
            break
        last = rows[-1][pk]
        done.rows += len(rows)
        if progress is not None:
            progress(cipher.model, done.rows, max(total, done.rows))
    return done


async def _rotate_row(
    tx: Transaction, cipher: ModelCipher, ring: KeyRing, row: dict[str, Any], done: ModelRotation
) -> None:
    pk, stored = cipher.primary_key, row[cipher.primary_key]
    key = cipher.key_of(stored)
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for name in cipher.names:
        text = row[name]
        if text is None or text == PLACEHOLDER or key_id_of(text) == ring.key_id:
            continue
        plain = ring.open(text, cipher.table, name, key)
        old[name], new[name] = text, ring.seal(plain, cipher.table, name, key)
    if not new:
        return
    result = await tx.table(cipher.table).where({pk: stored, **old}).update(new)
    if result.row_count:
        done.rotated += 1
        done.values += len(new)
    else:
        done.skipped += 1
