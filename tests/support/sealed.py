"""Opening, in tests, what producers sealed for a consumer (`shared.sealed`) with the development keys."""

from __future__ import annotations

from typing import Any

from shared.sealed import answer_context, development_sealer, links_context, reply_to_context


def links(info: dict[str, Any]) -> dict[str, str]:
    """An event's assignment (JSON) → {"accept": url, "decline": url}, as notify opens it."""
    opened: dict[str, str] = development_sealer().open("notify", info["links"], links_context(info["assignment_id"]))
    return opened


def seal(consumer: str, value: Any, context: str) -> str:
    return development_sealer().seal(consumer, value, context)


def answer_for(request_id: object, text: str) -> dict[str, str]:
    """The `answer` of a `counseling_request.answered` as routing seals it for intake and notify."""
    return {c: seal(c, text, answer_context(request_id)) for c in ("intake", "notify")}


def reply_to(request_id: object, zalo_user_id: str) -> str:
    return seal("notify", zalo_user_id, reply_to_context(request_id))


def opened(consumer: str, sealed: str, context: str) -> Any:
    return development_sealer().open(consumer, sealed, context)
