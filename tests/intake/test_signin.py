"""Signing in for people (issue 11): invitation → password → session → sign-out; one generic 401; limits with
429 + Retry-After counted in PostgreSQL (so another replica sees them); single-use, expiring links; resets
that never say whether an address exists; every attempt logged without the password."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

import httpx
import pytest

from services.intake.main import create_app
from services.intake.settings import IntakeSettings
from tests.intake.conftest import NOW
from tests.intake.signin_support import (
    PASSWORD,
    invite,
    latest_token,
    links,
    new_address,
    new_email,
    person_with_password,
    sign_in,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_an_invited_person_sets_a_password_signs_in_and_out(intake):
    email = new_email()
    account_id = await invite(intake, email.upper(), name="Trần Thị Lan")  # stored lower-cased
    (payload,) = await links(intake, account_id)
    assert payload["kind"] == "invitation" and payload["email"] == email and payload["display_name"] == "Trần Thị Lan"
    assert payload["link"].startswith("http://127.0.0.1:8005/moi/")
    token = payload["link"].rsplit("/", 1)[1]
    stored = await intake.rows("SELECT * FROM intake.account_tokens WHERE account_id = :a", a=account_id)
    assert len(stored) == 1 and token not in str(stored[0])  # only its SHA-256
    assert stored[0]["expires_at"] == NOW + timedelta(hours=72)

    found = await intake.client.get(f"/v1/invitations/{token}")
    assert found.status_code == 200 and found.json() == {"name": "Trần Thị Lan", "email": email, "kind": "invitation"}
    short = await intake.client.post(f"/v1/invitations/{token}", json={"password": "ngắn"})
    assert short.status_code == 422
    assert short.json()["detail"][0]["field"] == "body.password"
    assert short.json()["detail"][0]["message"] == "Quá ngắn (tối thiểu 10 ký tự)."
    assert (await intake.client.post(f"/v1/invitations/{token}", json={"password": PASSWORD})).status_code == 204
    again = await intake.client.post(f"/v1/invitations/{token}", json={"password": PASSWORD + "!"})
    assert again.status_code == 404 and again.json()["detail"].startswith("Liên kết không hợp lệ")
    assert (await intake.client.get(f"/v1/invitations/{token}")).status_code == 404
    (account,) = await intake.rows("SELECT password_hash FROM intake.accounts WHERE id = :a", a=account_id)
    assert account["password_hash"].startswith("$argon2id$") and PASSWORD not in account["password_hash"]

    address = new_address()
    signed = await sign_in(intake, email, PASSWORD, address)
    assert signed.status_code == 201, signed.text
    session = signed.json()
    assert session["token"].startswith("cn_")
    assert session["expires_at"] == (NOW + timedelta(hours=12)).isoformat().replace("+00:00", "Z")
    assert session["account"] == {
        "id": str(account_id),
        "name": "Trần Thị Lan",
        "role": "chair",
        "unit": None,
        "member": None,
        "email": email,
    }
    bearer = {"Authorization": f"Bearer {session['token']}"}
    key_id = session["token"].split("_")[1]
    assert len(await intake.events("credential.issued", key_id)) == 1
    me = await intake.client.get("/v1/me", headers=bearer)
    assert me.status_code == 200 and me.json() == session["account"]
    assert (await intake.client.get("/v1/units", headers=bearer)).status_code == 200

    assert (await intake.client.delete("/v1/sessions/current", headers=bearer)).status_code == 204
    assert (await intake.client.get("/v1/me", headers=bearer)).status_code == 401
    assert len(await intake.events("credential.revoked", key_id)) == 1
    log = await intake.rows(
        "SELECT account_id, address, outcome FROM intake.signin_attempts WHERE address = :a", a=address
    )
    assert [dict(r) for r in log] == [{"account_id": account_id, "address": address, "outcome": "success"}]


async def test_a_session_expires_by_the_service_clock(intake):
    _, email = await person_with_password(intake)
    token = (await sign_in(intake, email, PASSWORD, new_address())).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    intake.clock.advance(timedelta(hours=11, minutes=59))  # the wall clock is days past NOW: the fake clock rules
    assert (await intake.client.get("/v1/me", headers=bearer)).status_code == 200
    intake.clock.advance(timedelta(minutes=1))
    assert (await intake.client.get("/v1/me", headers=bearer)).status_code == 401


async def test_wrong_password_and_unknown_email_get_the_same_generic_401_and_are_logged_without_the_password(
    intake, caplog
):
    account_id, email = await person_with_password(intake)
    address = new_address()
    caplog.set_level(logging.INFO)
    wrong = await sign_in(intake, email, "Sai mật khẩu rồi 123", address)
    unknown = await sign_in(intake, new_email(), "Sai mật khẩu rồi 123", address)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()  # nothing tells a wrong password from an unknown address
    assert wrong.json()["detail"] == "Email hoặc mật khẩu không đúng."
    english = await sign_in(intake, email, "Sai mật khẩu rồi 123", address, **{"Accept-Language": "en"})
    assert english.json()["detail"] == "Wrong email or password."
    log = await intake.rows("SELECT * FROM intake.signin_attempts WHERE address = :a ORDER BY id", a=address)
    assert [(r["account_id"], r["outcome"]) for r in log] == [
        (account_id, "failure"),
        (None, "failure"),
        (account_id, "failure"),
    ]
    assert "Sai mật khẩu" not in str([dict(r) for r in log])
    assert "sign-in failure: account unknown from " + address in caplog.text
    assert f"sign-in failure: account {account_id} from {address}" in caplog.text
    assert "Sai mật khẩu" not in caplog.text and PASSWORD not in caplog.text


async def test_failed_attempts_are_limited_per_account_then_allowed_after_the_window(intake):
    _, email = await person_with_password(intake)
    for i in range(5):  # SIGNIN_MAX_FAILURES_PER_ACCOUNT, from five different addresses
        assert (await sign_in(intake, email, f"sai-{i}-mật-khẩu", new_address())).status_code == 401
        intake.clock.advance(timedelta(minutes=1))
    limited = await sign_in(intake, email, PASSWORD, new_address())  # even the right password
    assert limited.status_code == 429
    assert limited.json()["detail"].startswith("Đăng nhập sai quá nhiều lần")
    # The first failure (at NOW) leaves the 15-minute window at NOW + 15 min; it is now NOW + 5 min.
    assert int(limited.headers["Retry-After"]) == 601
    intake.clock.advance(timedelta(seconds=601))
    assert (await sign_in(intake, email, PASSWORD, new_address())).status_code == 201


async def test_failed_attempts_are_limited_per_address_in_the_database_so_another_replica_refuses_too(intake):
    address = new_address()
    for _ in range(20):  # SIGNIN_MAX_FAILURES_PER_ADDRESS, each on an unknown address
        assert (await sign_in(intake, new_email(), "đoán-mò-mật-khẩu", address)).status_code == 401
    assert (await sign_in(intake, new_email(), "đoán-mò-mật-khẩu", address)).status_code == 429
    _, email = await person_with_password(intake)
    assert (await sign_in(intake, email, PASSWORD, address)).status_code == 429
    assert (await sign_in(intake, email, PASSWORD, new_address())).status_code == 201

    settings = IntakeSettings(**{key.lower(): value for key, value in intake.env.items()})
    replica = create_app(settings, clock=intake.clock)
    async with replica.router.lifespan_context(replica):
        transport = httpx.ASGITransport(app=replica)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica") as client:
            web = intake.headers["web"]
            body = {"email": email, "password": PASSWORD, "client_address": address}
            refused = await client.post("/v1/sessions", json=body, headers=web)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


async def test_client_address_counts_only_when_the_web_service_vouches_for_it(intake):
    _, email = await person_with_password(intake)
    claimed = new_address()
    body = {"email": email, "password": "không phải mật khẩu", "client_address": claimed}
    async with intake.client_from("203.0.113.77") as client:
        assert (await client.post("/v1/sessions", json=body)).status_code == 401  # no credential: the TCP peer
        reporter = intake.headers["reporter"]
        assert (await client.post("/v1/sessions", json=body, headers=reporter)).status_code == 401
        forged = {"Authorization": "Bearer cn_0000_forged"}
        assert (await client.post("/v1/sessions", json=body, headers=forged)).status_code == 401
    rows = await intake.rows(
        "SELECT address FROM intake.signin_attempts WHERE address IN (:a, :b)", a=claimed, b="203.0.113.77"
    )
    assert [r["address"] for r in rows] == ["203.0.113.77", "203.0.113.77"]
    assert (await sign_in(intake, email, PASSWORD, claimed)).status_code == 201  # vouched for by `web`
    bad = {**body, "client_address": "not-an-address"}
    refused = await intake.client.post("/v1/sessions", json=bad, headers=intake.headers["web"])
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "body.client_address"


async def test_links_expire_and_a_new_invitation_replaces_the_old_one(intake):
    email = new_email()
    account_id = await invite(intake, email)
    first = await latest_token(intake, account_id)
    intake.clock.advance(timedelta(hours=72))
    assert (await intake.client.get(f"/v1/invitations/{first}")).status_code == 404
    assert (await intake.client.post(f"/v1/invitations/{first}", json={"password": PASSWORD})).status_code == 404

    resend = f"/v1/accounts/{account_id}/invitation"
    assert (await intake.client.post(resend, headers=intake.headers["chair"])).status_code == 403
    assert (await intake.client.post(resend, headers=intake.headers["admin"])).status_code == 202
    intake.clock.set(NOW)  # the first link is valid again by time, but replaced
    second = await latest_token(intake, account_id)
    assert second != first
    assert (await intake.client.get(f"/v1/invitations/{first}")).status_code == 404
    assert (await intake.client.get(f"/v1/invitations/{second}")).status_code == 200
    unknown = f"/v1/accounts/{uuid.uuid4()}/invitation"
    assert (await intake.client.post(unknown, headers=intake.headers["admin"])).status_code == 404


async def test_an_admin_gives_an_existing_account_an_email_and_an_invitation(intake):
    created = await intake.client.post(
        "/v1/accounts", json={"role": "committee", "name": "Lê Thị Thu"}, headers=intake.headers["admin"]
    )
    account_id = created.json()["account_id"]
    resend = f"/v1/accounts/{account_id}/invitation"
    missing = await intake.client.post(resend, headers=intake.headers["admin"])
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "body.email"
    taken_email = new_email()
    await invite(intake, taken_email)
    taken = await intake.client.post(resend, json={"email": taken_email}, headers=intake.headers["admin"])
    assert taken.status_code == 422 and taken.json()["detail"][0]["message"] == "Địa chỉ email này đã được dùng."
    email = new_email()
    assert (await intake.client.post(resend, json={"email": email}, headers=intake.headers["admin"])).status_code == 202
    token = await latest_token(intake, uuid.UUID(account_id))
    assert (await intake.client.get(f"/v1/invitations/{token}")).json()["email"] == email
    duplicate = await intake.client.post(
        "/v1/accounts", json={"role": "chair", "name": "x", "email": email}, headers=intake.headers["admin"]
    )
    assert duplicate.status_code == 422 and duplicate.json()["detail"][0]["field"] == "body.email"


async def test_a_reset_never_says_whether_the_address_exists_and_ends_old_sessions(intake):
    account_id, email = await person_with_password(intake)
    old_session = (await sign_in(intake, email, PASSWORD, new_address())).json()["token"]
    before = len(await links(intake, account_id))

    nobody = await intake.client.post("/v1/password-resets", json={"email": new_email()})
    somebody = await intake.client.post("/v1/password-resets", json={"email": email.upper()})
    assert nobody.status_code == somebody.status_code == 202
    assert nobody.content == somebody.content
    issued = await links(intake, account_id)
    assert len(issued) == before + 1 and issued[-1]["kind"] == "reset"
    token = await latest_token(intake, account_id)
    assert (await intake.client.get(f"/v1/invitations/{token}")).json()["kind"] == "reset"
    assert (
        await intake.client.post(f"/v1/invitations/{token}", json={"password": "Mật khẩu mới 2026!"})
    ).status_code == 204
    assert (await intake.client.get("/v1/me", headers={"Authorization": f"Bearer {old_session}"})).status_code == 401
    assert (await sign_in(intake, email, PASSWORD, new_address())).status_code == 401
    assert (await sign_in(intake, email, "Mật khẩu mới 2026!", new_address())).status_code == 201
    assert len(await intake.events("credential.revoked", old_session.split("_")[1])) == 1

    for _ in range(4):  # RESET_MAX_PER_HOUR = 3 emails an hour; the answer does not change
        assert (await intake.client.post("/v1/password-resets", json={"email": email})).status_code == 202
    assert len(await links(intake, account_id)) == before + 3
    bad = await intake.client.post("/v1/password-resets", json={"email": "không phải email"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["message"] == "Địa chỉ email không hợp lệ."


async def test_parallel_guesses_cannot_overshoot_the_per_account_limit(intake):
    account_id, email = await person_with_password(intake)
    answers = await asyncio.gather(*(sign_in(intake, email, f"đoán {i} lần nữa", new_address()) for i in range(10)))
    assert sorted(a.status_code for a in answers) == [401] * 5 + [429] * 5
    rows = await intake.rows(
        "SELECT outcome, count(*) AS n FROM intake.signin_attempts WHERE account_id = :a GROUP BY outcome", a=account_id
    )
    assert {r["outcome"]: r["n"] for r in rows} == {"failure": 5, "limited": 5}


async def test_a_disabled_account_cannot_sign_in_get_a_link_or_a_credential_until_enabled(intake):
    account_id, email = await person_with_password(intake)
    session = (await sign_in(intake, email, PASSWORD, new_address())).json()["token"]
    bearer = {"Authorization": f"Bearer {session}"}
    await intake.client.post("/v1/password-resets", json={"email": email})
    pending = await latest_token(intake, account_id)
    admin = intake.headers["admin"]

    assert (
        await intake.client.post(f"/v1/accounts/{account_id}/disable", headers=intake.headers["chair"])
    ).status_code == 403
    assert (await intake.client.post(f"/v1/accounts/{account_id}/disable", headers=admin)).status_code == 204
    assert (await intake.client.get("/v1/me", headers=bearer)).status_code == 401  # revoked at once
    assert len(await intake.events("credential.revoked", session.split("_")[1])) == 1
    refused = await sign_in(intake, email, PASSWORD, new_address())
    assert refused.status_code == 401 and refused.json()["detail"] == "Email hoặc mật khẩu không đúng."
    assert (await intake.client.get(f"/v1/invitations/{pending}")).status_code == 404
    issued = len(await links(intake, account_id))
    assert (await intake.client.post("/v1/password-resets", json={"email": email})).status_code == 202
    assert len(await links(intake, account_id)) == issued  # no email to a disabled account
    resend = await intake.client.post(f"/v1/accounts/{account_id}/invitation", headers=admin)
    assert resend.status_code == 409 and resend.json()["detail"] == "Tài khoản đã bị khóa."
    credential = await intake.client.post(f"/v1/accounts/{account_id}/credentials", json={}, headers=admin)
    assert credential.status_code == 409
    listed = {a["account_id"]: a for a in (await intake.client.get("/v1/accounts", headers=admin)).json()}
    assert listed[str(account_id)]["disabled_at"] is not None and listed[str(account_id)]["password_set"] is True

    assert (await intake.client.post(f"/v1/accounts/{account_id}/enable", headers=admin)).status_code == 204
    assert (await sign_in(intake, email, PASSWORD, new_address())).status_code == 201
    assert (await intake.client.post(f"/v1/accounts/{uuid.uuid4()}/disable", headers=admin)).status_code == 404
