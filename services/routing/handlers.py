"""Event handlers of routing. They need the service's settings (deadlines, link secret), so they are
built by `make_handlers(settings)` when the app is created."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert

from services.routing import store
from services.routing.settings import RoutingSettings
from services.routing.workflow import Effects, assign_new_request, record_new_case
from shared.consumer import Handler, HandlerContext
from shared.events import Event
from shared.events.intake import CaseReported, CategoryUpserted, CounselingRequestReceived, UnitUpserted


def effects(ctx: HandlerContext, settings: RoutingSettings) -> Effects:
    async def emit(event: Event, key: Any) -> Any:
        return await ctx.emit(event, key=key)

    return Effects(ctx.session, settings, ctx.clock.now(), emit)


def make_handlers(settings: RoutingSettings) -> dict[type[Event], Handler]:
    async def on_case_reported(event: CaseReported, ctx: HandlerContext) -> None:
        # Recorded here; the experts are chosen by `assigner.assignment_worker`, many cases per transaction.
        await record_new_case(effects(ctx, settings), event, ctx.envelope)

    async def on_counseling_request(event: CounselingRequestReceived, ctx: HandlerContext) -> None:
        await assign_new_request(effects(ctx, settings), event)

    return {
        CaseReported: on_case_reported,
        CounselingRequestReceived: on_counseling_request,
        CategoryUpserted: on_category_upserted,
        UnitUpserted: on_unit_upserted,
    }


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
