"""The operator's pages: the dead-letter queues (`/van-hanh/thu-chet`: how many wait in each service's queue,
their envelope metadata, replay one or all) through each service's own `/v1/dead-letters` (`shared.deadletters`:
the service talks to its broker, the web service never does), and the delivery log (`/van-hanh/tin-gui`: what
notify sent to whom, on which channel, with which template, its status, attempts and errors; send a failed one
again) through notify's `/v1/deliveries`. Neither shows anything about a child: dead letters by metadata only,
deliveries by member, template and case code."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from services.web import domain
from services.web.clients import ServiceDown
from services.web.pages import PageRoute, api, message_page, person, redirect, render

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)
DEAD = "/van-hanh/thu-chet"
DELIVERIES = "/van-hanh/tin-gui"
SHOWN = 50


def _refused(request: Request) -> Response:
    return message_page(request, 403, "Không có quyền truy cập", "Bạn không có quyền xem trang này.")


def _unknown(request: Request) -> Response:
    return message_page(request, 404, "Không tìm thấy", "Không có hàng đợi này.", link=(DEAD, "Về thư chết"))


@router.get(DEAD)
async def dead_letters(request: Request) -> Response:
    session = await person(request)
    queues: list[dict[str, Any]] = []
    for service, name in domain.BROKER_SERVICES.items():
        entry: dict[str, Any] = {"service": service, "name": name, "count": None, "queue": ""}
        try:
            answer = await api(request, session, service, "GET", "/v1/dead-letters", params={"limit": 0})
        except ServiceDown:
            answer = None
        if answer is not None and answer.status == 403:
            return _refused(request)
        if answer is not None and answer.ok and isinstance(answer.body, dict):
            entry.update(count=answer.body.get("count"), queue=answer.body.get("queue", ""))
        queues.append(entry)
    return render(request, "ops_dead_letters.html", title="Thư chết (hàng đợi lỗi)", queues=queues)


@router.get(DEAD + "/{service}")
async def dead_letter_queue(request: Request, service: str) -> Response:
    session = await person(request)
    if service not in domain.BROKER_SERVICES:
        return _unknown(request)
    answer = await api(request, session, service, "GET", "/v1/dead-letters", params={"limit": SHOWN})
    if answer.status == 403:
        return _refused(request)
    body = answer.body if answer.ok and isinstance(answer.body, dict) else {}
    return render(
        request,
        "ops_dead_letter_queue.html",
        title=f"Thư chết — {domain.BROKER_SERVICES[service]}",
        service=service,
        service_name=domain.BROKER_SERVICES[service],
        queue=body.get("queue", ""),
        count=body.get("count", 0),
        letters=body.get("letters", []),
        shown=SHOWN,
        replayed=request.query_params.get("da-phat-lai"),
    )


async def _replay(request: Request, service: str, path: str) -> Response:
    session = await person(request)
    if service not in domain.BROKER_SERVICES:
        return _unknown(request)
    answer = await api(request, session, service, "POST", path)
    if answer.status == 403:
        return _refused(request)
    if answer.status == 404:
        return message_page(
            request,
            404,
            "Không còn thư này",
            "Thư chết này không còn trong hàng đợi (có thể đã được phát lại).",
            link=(f"{DEAD}/{service}", "Về hàng đợi"),
        )
    replayed = answer.body.get("replayed", 0) if isinstance(answer.body, dict) else 0
    log.info("account %s replayed %s dead letters of %s", session.account.get("id"), replayed, service)
    return redirect(f"{DEAD}/{service}?da-phat-lai={replayed}")


@router.post(DEAD + "/{service}/phat-lai")
async def replay_all(request: Request, service: str) -> Response:
    return await _replay(request, service, "/v1/dead-letters/replay")


@router.post(DEAD + "/{service}/{event_id}/phat-lai")
async def replay_one(request: Request, service: str, event_id: uuid.UUID) -> Response:
    return await _replay(request, service, f"/v1/dead-letters/{event_id}/replay")


# ---- the delivery log ---------------------------------------------------------------------------------


def _uuid(value: str | None) -> str | None:
    try:
        return str(uuid.UUID(value or ""))
    except ValueError:
        return None


@router.get(DELIVERIES)
async def deliveries(request: Request) -> Response:
    session = await person(request)
    query = request.query_params
    status = query.get("trang-thai") if query.get("trang-thai") in domain.DELIVERY_STATUS else None
    case_id, member_id = _uuid(query.get("vu-viec")), _uuid(query.get("thanh-vien"))
    params: dict[str, Any] = {"limit": 200}
    if status:
        params["status"] = status
    if case_id:
        params["case_id"] = case_id
    if member_id:
        params["member_id"] = member_id
    answer = await api(request, session, "notify", "GET", "/v1/deliveries", params=params)
    if answer.status == 403:
        return _refused(request)
    found = answer.body.get("deliveries", []) if answer.ok and isinstance(answer.body, dict) else []
    return render(
        request,
        "ops_deliveries.html",
        title="Nhật ký gửi tin",
        deliveries=found,
        chosen_status=status or "",
        case_id=case_id,
        member_id=member_id,
        statuses=list(domain.DELIVERY_STATUS.items()),
        retried=query.get("da-gui-lai"),
    )


@router.post(DELIVERIES + "/{delivery_id}/gui-lai")
async def retry(request: Request, delivery_id: uuid.UUID) -> Response:
    session = await person(request)
    answer = await api(request, session, "notify", "POST", f"/v1/deliveries/{delivery_id}/retry")
    if answer.status == 403:
        return _refused(request)
    if answer.status == 404:
        return message_page(request, 404, "Không tìm thấy", "Không có tin gửi này.", link=(DELIVERIES, "Quay lại"))
    if answer.status == 409:
        return message_page(
            request,
            409,
            "Không gửi lại được",
            "Tin này không ở trạng thái gửi thất bại.",
            link=(DELIVERIES, "Quay lại"),
        )
    log.info("account %s retried delivery %s", session.account.get("id"), delivery_id)
    return redirect(f"{DELIVERIES}?trang-thai=pending&da-gui-lai={delivery_id}")
