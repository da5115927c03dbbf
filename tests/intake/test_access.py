"""The access matrix: each role against each authenticated endpoint.

A reporter reaches only its own unit: another unit's case or report is 404 (it does not exist for the
reporter); reporting a case for another unit is 403. A member reads a case (and its child's data) only
while routing has it on the case (`case.assigned`): any other case is 404. A role that may never use an
endpoint gets 403; no credential gets 401.
"""

from __future__ import annotations

import uuid

import pytest

from tests.intake.conftest import MEMBER_ID, MINIMAL_CASE, ROLES
from tests.intake.test_member_access import assigned

pytestmark = pytest.mark.asyncio(loop_scope="package")

OK = (200, 201, 204)
ANON = "anonymous"
REPORT = {"cases_by_category": {"neglect": 2}, "activities_held": 1}


def matrix(case_id: str) -> list[tuple[str, str, dict | None, dict[str, object]]]:
    """(method, path, body, {role: expected}) — roles not named expect 403; anonymous expects 401."""
    return [
        ("POST", "/v1/cases", MINIMAL_CASE, {"reporter": 201, "chair": 201}),
        (
            "GET",
            f"/v1/cases/{case_id}",
            None,
            {
                "reporter": 200,
                "reporter-other": 404,
                "member": 404,
                "member-on-case": 200,
                "chair": 200,
                "committee": 404,  # not forwarded to the Standing Committee (tests/web/test_committee_pages.py)
            },
        ),
        ("GET", "/v1/cases", None, {"reporter": 200, "reporter-other": 200, "chair": 200, "committee": 200}),
        (
            "GET",
            f"/v1/cases/{case_id}/child",
            None,
            {"reporter": 200, "reporter-other": 404, "member": 404, "member-on-case": 200, "chair": 200},
        ),
        ("GET", f"/v1/cases/{case_id}/possible-duplicates", None, {"chair": 200}),
        ("GET", "/v1/audit-log", None, {"admin": 200}),
        ("PUT", "/v1/units/phuong-tan-ninh/monthly-reports/2026-10", REPORT, {"reporter": OK, "reporter-other": 404}),
        (
            "GET",
            "/v1/units/phuong-tan-ninh/monthly-reports/2026-10",
            None,
            {"reporter": 200, "reporter-other": 404, "chair": 200, "committee": 200, "admin": 200},
        ),
        ("POST", "/v1/accounts", {"role": "committee", "name": "Ban Thường vụ"}, {"admin": 201}),
        ("GET", "/v1/accounts", None, {"admin": 200}),
        ("PATCH", f"/v1/accounts/{uuid.UUID(int=7)}", {"name": "Không có"}, {"admin": 404}),
        ("GET", "/v1/dead-letters", None, {"operator": 200}),
        ("DELETE", "/v1/credentials/0123456789abcdef", None, {"admin": 404}),
        ("PUT", "/v1/units/xa-moi", {"name_vi": "Xã Mới", "kind": "xã", "valid_from": "2026-01-01"}, {"admin": 200}),
        (
            "PUT",
            "/v1/categories/bullying",
            {"name_vi": "Bắt nạt", "name_en": "Bullying", "fields": ["psychology"]},
            {"admin": 200},
        ),
        ("GET", "/v1/units", None, dict.fromkeys(ROLES, 200)),
    ]


async def test_each_role_reaches_exactly_the_endpoints_it_should(intake):
    case = (await intake.client.post("/v1/cases", json=MINIMAL_CASE, headers=intake.headers["reporter"])).json()
    case_id = case["id"]
    await intake.deliver(assigned(case, MEMBER_ID))
    wrong: list[str] = []
    for method, path, body, allowed in matrix(case_id):
        for role in (*ROLES, ANON):
            expected = 401 if role == ANON else allowed.get(role, 403)
            headers = {} if role == ANON else intake.headers[role]
            response = await intake.client.request(method, path, json=body, headers=headers)
            ok = response.status_code in expected if isinstance(expected, tuple) else response.status_code == expected
            if not ok:
                wrong.append(f"{role:>14} {method} {path}: {response.status_code}, expected {expected}")
    assert not wrong, "\n".join(wrong)


async def test_a_reporter_lists_only_its_own_units_cases(intake):
    mine = (await intake.client.post("/v1/cases", json=MINIMAL_CASE, headers=intake.headers["reporter"])).json()
    theirs = await intake.client.get("/v1/cases", headers=intake.headers["reporter-other"])
    assert mine["id"] not in {c["id"] for c in theirs.json()}
    assert {c["unit"] for c in theirs.json()} <= {"xa-tan-bien"}
    listed = await intake.client.get("/v1/cases", headers=intake.headers["reporter"])
    assert mine["id"] in {c["id"] for c in listed.json()}


async def test_a_revoked_or_unknown_credential_is_refused(intake):
    issued = (
        await intake.client.post(
            "/v1/accounts",
            json={"role": "reporter", "unit": "phuong-tan-ninh", "name": "Tạm"},
            headers=intake.headers["admin"],
        )
    ).json()
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    assert (await intake.client.get("/v1/cases", headers=bearer)).status_code == 200
    assert (
        await intake.client.delete(f"/v1/credentials/{issued['key_id']}", headers=intake.headers["admin"])
    ).status_code == 204
    assert (await intake.client.get("/v1/cases", headers=bearer)).status_code == 401
    assert len(await intake.events("credential.revoked", issued["key_id"])) == 1
    assert (
        await intake.client.get("/v1/cases", headers={"Authorization": f"Bearer cn_{uuid.uuid4().hex[:16]}_x"})
    ).status_code == 401
