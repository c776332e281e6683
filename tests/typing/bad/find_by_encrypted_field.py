"""An equality lookup on an encrypted field that is not searchable (no blind index)."""

from __future__ import annotations

from tests.encryption_models.vault import Credential, Patient, PatientQuery


def by_ssn(ssn: str) -> PatientQuery:
    return Patient.find_by(ssn=ssn)  # searchable: fine


def by_diagnosis(text: str) -> PatientQuery:
    return Patient.find_by(diagnosis=text)  # E: call-arg


async def by_secret(secret: str) -> list[Credential]:
    return await Credential.query().filter_by(secret=secret)  # E: call-arg
