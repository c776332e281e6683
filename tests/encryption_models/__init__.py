"""Models with encrypted fields generated from schemas/vault.yaml, for the encryption tests."""
