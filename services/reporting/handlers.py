"""Event handlers of reporting."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import insert

from services.reporting import store
from shared.consumer import HandlerContext
from shared.events.intake import CaseReported
from shared.events.routing import CaseAssigned

VN = ZoneInfo("Asia/Ho_Chi_Minh")


async def on_case_reported(event: CaseReported, ctx: HandlerContext) -> None:
    await ctx.session.execute(
        insert(store.cases)
        .values(
            case_id=event.case_id,
            code=event.code,
            unit=event.unit,
            category=event.category,
            urgency=event.urgency,
            status="reported",
            period=event.reported_at.astimezone(VN).strftime("%Y-%m"),
            reported_at=event.reported_at,
        )
        .on_conflict_do_nothing()
    )


async def on_case_assigned(event: CaseAssigned, ctx: HandlerContext) -> None:
    await ctx.session.execute(
        store.cases.update()
        .where(store.cases.c.case_id == event.case_id, store.cases.c.status == "reported")
        .values(status="assigned")
    )


HANDLERS = {CaseReported: on_case_reported, CaseAssigned: on_case_assigned}
