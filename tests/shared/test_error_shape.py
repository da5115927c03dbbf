"""One error shape in every service: status, the sentence in the asked language and in both, field errors
for a 422; FastAPI's own refusals and the shared refusals alike. Needs no server."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from shared.errors import Conflict, FieldErrors, NotFound, TooManyRequests
from shared.http_errors import install_error_handlers


class Body(BaseModel):
    count: int


def app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/missing")
    async def missing() -> None:
        raise NotFound("No such case.", "Không tìm thấy vụ việc.")

    @app.get("/busy")
    async def busy() -> None:
        raise TooManyRequests("Slow down.", "Chậm lại.", headers={"Retry-After": "7"})

    @app.post("/things")
    async def things(body: Body) -> None:
        if body.count > 3:
            raise FieldErrors.one("body.count", "At most 3.", "Tối đa 3.")
        raise Conflict("Already there.", "Đã có rồi.")

    @app.get("/legacy")
    async def legacy() -> None:
        raise HTTPException(403, detail="Your role may not do this.")

    return app


async def call(method: str, path: str, lang: str = "vi", **kwargs) -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, headers={"Accept-Language": lang}, **kwargs)


@pytest.mark.parametrize(("lang", "sentence"), [("vi", "Không tìm thấy vụ việc."), ("en-GB,vi;q=0.5", "No such case.")])
async def test_a_refusal_has_its_status_and_both_sentences(lang, sentence):
    response = await call("GET", "/missing", lang)
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "detail": sentence,
        "message": {"vi": "Không tìm thấy vụ việc.", "en": "No such case."},
    }


async def test_a_refusal_keeps_its_headers():
    response = await call("GET", "/busy")
    assert (response.status_code, response.headers["retry-after"]) == (429, "7")
    assert response.json()["message"] == {"vi": "Chậm lại.", "en": "Slow down."}


async def test_field_errors_from_the_schema_and_from_code_have_the_same_shape():
    from_schema = (await call("POST", "/things", "en", json={"count": "many"})).json()
    from_code = (await call("POST", "/things", "en", json={"count": 9})).json()
    for body, message in ((from_schema, None), (from_code, "At most 3.")):
        assert body["status"] == 422
        assert body["message"] == {"vi": "Có trường dữ liệu không hợp lệ.", "en": "Some fields are not valid."}
        [entry] = body["detail"]
        assert (entry["field"], entry["loc"]) == ("body.count", ["body", "count"])
        if message is not None:
            assert entry["message"] == message


async def test_fastapis_own_refusals_have_the_shape_in_vietnamese_too():
    unknown = await call("GET", "/nowhere")
    assert unknown.json() == {
        "status": 404,
        "detail": "Không tìm thấy.",
        "message": {"vi": "Không tìm thấy.", "en": "Not found."},
    }
    legacy = await call("GET", "/legacy", "en")
    assert legacy.json() == {
        "status": 403,
        "detail": "Your role may not do this.",
        "message": {"vi": "Đồng chí không có quyền thực hiện việc này.", "en": "Your role may not do this."},
    }
    conflict = await call("POST", "/things", json={"count": 1})
    assert (conflict.status_code, conflict.json()["detail"]) == (409, "Đã có rồi.")
