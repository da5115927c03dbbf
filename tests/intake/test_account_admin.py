"""What an administrator does to accounts besides creating them (issue 12): rename, change the role and its
binding (a new role revokes the live credentials, so the person signs in again with it), see each account's
last sign-in; and the audit log filtered by case code, person and time, paged."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.intake.conftest import NOW
from tests.intake.signin_support import PASSWORD, new_address, person_with_password, sign_in
from tests.intake.test_cases import with_child

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_an_admin_changes_a_role_and_the_person_signs_in_again_with_the_new_one(intake):
    admin = intake.headers["admin"]
    account_id, email = await person_with_password(intake, role="chair")
    listed = {a["account_id"]: a for a in (await intake.client.get("/v1/accounts", headers=admin)).json()}
    assert listed[str(account_id)]["last_sign_in_at"] is None
    session = (await sign_in(intake, email, PASSWORD, new_address())).json()["token"]
    bearer = {"Authorization": f"Bearer {session}"}
    listed = {a["account_id"]: a for a in (await intake.client.get("/v1/accounts", headers=admin)).json()}
    assert listed[str(account_id)]["last_sign_in_at"] is not None

    renamed = await intake.client.patch(f"/v1/accounts/{account_id}", json={"name": "Trần Văn Mới"}, headers=admin)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Trần Văn Mới"
    assert (await intake.client.get("/v1/me", headers=bearer)).status_code == 200, "a new name keeps the session"

    no_unit = await intake.client.patch(f"/v1/accounts/{account_id}", json={"role": "reporter"}, headers=admin)
    assert no_unit.status_code == 422 and no_unit.json()["detail"][0]["field"] == "body.unit"
    assert no_unit.json()["detail"][0]["message"] == "Tài khoản báo cáo phải gắn với một đơn vị."
    changed = await intake.client.patch(
        f"/v1/accounts/{account_id}", json={"role": "reporter", "unit": "phuong-tan-ninh"}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "reporter" and changed.json()["unit"] == "phuong-tan-ninh"
    assert (await intake.client.get("/v1/me", headers=bearer)).status_code == 401, "the chair's session is revoked"
    assert len(await intake.events("credential.revoked", session.split("_")[1])) == 1
    again = (await sign_in(intake, email, PASSWORD, new_address())).json()
    assert again["account"]["role"] == "reporter" and again["account"]["unit"] == "phuong-tan-ninh"

    assert (
        await intake.client.patch(f"/v1/accounts/{account_id}", json={"role": "admin"}, headers=intake.headers["chair"])
    ).status_code == 403
    missing = await intake.client.patch(f"/v1/accounts/{uuid.uuid4()}", json={"name": "X"}, headers=admin)
    assert missing.status_code == 404 and missing.json()["detail"] == "Không có tài khoản này."
    web = await intake.client.patch(f"/v1/accounts/{account_id}", json={"role": "web"}, headers=admin)
    assert web.status_code == 422, "the machine role is not given through this page"


async def test_the_audit_log_is_filtered_by_case_code_person_and_time_and_paged(intake):
    admin = intake.headers["admin"]
    made = await intake.client.post("/v1/cases", json=with_child(), headers=intake.headers["reporter"])
    case_id, code = made.json()["id"], made.json()["code"]
    for _ in range(3):
        assert (
            await intake.client.get(f"/v1/cases/{case_id}/child", headers=intake.headers["chair"])
        ).status_code == 200
    intake.clock.advance(timedelta(days=2))
    assert (await intake.client.get(f"/v1/cases/{case_id}/child", headers=intake.headers["chair"])).status_code == 200

    by_code = (await intake.client.get("/v1/audit-log", params={"case_code": code.lower()}, headers=admin)).json()
    assert len(by_code) == 4 and {e["case_code"] for e in by_code} == {code}
    assert [e["id"] for e in by_code] == sorted((e["id"] for e in by_code), reverse=True), "newest first"
    chair = by_code[0]["account_id"]
    assert all(e["account_id"] == chair for e in by_code)
    first_page = await intake.client.get("/v1/audit-log", params={"case_code": code, "limit": 3}, headers=admin)
    second_page = await intake.client.get(
        "/v1/audit-log", params={"case_code": code, "limit": 3, "offset": 3}, headers=admin
    )
    assert [e["id"] for e in first_page.json() + second_page.json()] == [e["id"] for e in by_code]
    until = (NOW + timedelta(days=1)).isoformat()
    early = await intake.client.get("/v1/audit-log", params={"case_code": code, "until": until}, headers=admin)
    late = await intake.client.get("/v1/audit-log", params={"case_code": code, "since": until}, headers=admin)
    assert len(early.json()) == 3 and len(late.json()) == 1
    naive = (NOW + timedelta(days=1)).replace(tzinfo=None).isoformat()  # Vietnam's time: 7 hours earlier
    assert (
        len(
            (await intake.client.get("/v1/audit-log", params={"case_code": code, "until": naive}, headers=admin)).json()
        )
        == 3
    )
    nobody = await intake.client.get(
        "/v1/audit-log", params={"case_code": code, "account_id": str(uuid.uuid4())}, headers=admin
    )
    assert nobody.json() == []
    bad = await intake.client.get("/v1/audit-log", params={"since": "hôm qua"}, headers=admin)
    assert bad.status_code == 422
