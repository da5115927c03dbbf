"""The free text routing keeps about a child (a member's opinion, the chair's proposal, the outcome, the
club's answer to a counseling request): encrypted with CHILD_DATA_KEYS (`shared.crypto`), each value bound
to its row and column, and each read written to `routing.audit_log`."""

from __future__ import annotations

import uuid

from shared.crypto import FieldCipher


def proposal_context(case_id: uuid.UUID) -> str:
    return f"case:{case_id}:proposal"


def outcome_context(case_id: uuid.UUID) -> str:
    return f"case:{case_id}:outcome"


def opinion_context(opinion_id: uuid.UUID) -> str:
    return f"opinion:{opinion_id}:text"


def answer_context(request_id: uuid.UUID) -> str:
    return f"counseling:{request_id}:answer"


def cipher_of(settings) -> FieldCipher:  # type: ignore[no-untyped-def]
    return FieldCipher.from_settings(settings)
