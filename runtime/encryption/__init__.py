"""Field encryption: AES-GCM envelopes, the key ring, blind indexes and key rotation.

- ``keys``: parsing configured keys (``id:base64,id2:base64``) without ever showing them.
- ``envelope``: one value sealed as ``jdg1:<key id>:<base64 nonce + ciphertext>``.
- ``values``: a field's Python value <-> the bytes that get sealed, by column type.
- ``ring``: ``KeyRing``, the keys of one database, sealing, opening and blind-indexing.
- ``fields``: ``ModelCipher``, what a model with encrypted fields does on write, read, filter.
- ``rotation``: ``rotate_keys`` re-seals every value under the active key, batch by batch.

Kept free of imports from the models and the manager, so ``config`` can import ``keys``.
"""

from __future__ import annotations

from .rotation import RotationReport, rotate_keys

__all__ = ["RotationReport", "rotate_keys"]
