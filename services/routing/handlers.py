"""Event handlers of routing: `make_handlers(settings)` gives the mapping the consumer registers. A handler's
`ctx` is its unit of work (`ctx.settings`, `ctx.now`, `ctx.emit`)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from services.routing import store
from services.routing.api import auth
from services.routing.assigner import ASSIGNER
from services.routing.cases import record_new_case
from services.routing.counseling import assign_new_request
from services.routing.freetext import erase_case
from services.routing.settings import RoutingSettings
from shared.consumer import Handler, HandlerContext
from shared.events import Event
from shared.events.intake import (
    CaseConsentWithdrawn,
    CaseReported,
    CategoryUpserted,
    CounselingRequestReceived,
    CredentialIssued,
    CredentialRevoked,
    UnitUpserted,
)


def make_handlers(settings: RoutingSettings) -> dict[type[Event], Handler]:
    """Every event routing consumes (the catalogue's `CONSUMERS`), by type."""
    return {
        CaseReported: on_case_reported,
        CounselingRequestReceived: on_counseling_request,
        CategoryUpserted: on_category_upserted,
        UnitUpserted: on_unit_upserted,
        CaseConsentWithdrawn: on_consent_withdrawn,
        CredentialIssued: auth.on_issued,
        CredentialRevoked: auth.on_revoked,
    }


async def on_case_reported(event: CaseReported, ctx: HandlerContext) -> None:
    # Recorded here; the experts are chosen by `assigner.assignment_worker`, many cases per transaction,
    # woken once this transaction has committed.
    if await record_new_case(ctx, event, ctx.envelope):
        ctx.wake(ASSIGNER)


async def on_consent_withdrawn(event: CaseConsentWithdrawn, ctx: HandlerContext) -> None:
    """Intake erased the case's child data: routing destroys its key of the case (opinions, proposal, outcome)."""
    await erase_case(ctx.session, event.case_id, event.withdrawn_at, event.reason)


async def on_counseling_request(event: CounselingRequestReceived, ctx: HandlerContext) -> None:
    await assign_new_request(ctx, event)


async def on_category_upserted(event: CategoryUpserted, ctx: HandlerContext) -> None:
    """Intake owns the taxonomy; the club edits a category's fields there and routing follows."""
    values = {"name_vi": event.name_vi, "fields": list(event.fields), "active": event.active}
    await ctx.session.execute(
        insert(store.categories)
        .values(code=event.code, **values)
        .on_conflict_do_update(index_elements=["code"], set_=values)
    )


async def on_unit_upserted(event: UnitUpserted, ctx: HandlerContext) -> None:
    values = {
        "name_vi": event.name_vi,
        "valid_from": event.valid_from,
        "valid_to": event.valid_to,
        "successors": list(event.successors),
    }
    await ctx.session.execute(
        insert(store.units)
        .values(code=event.code, **values)
        .on_conflict_do_update(index_elements=["code"], set_=values)
    )
