"""Units have contacts (email, Zalo) so monthly reminders reach their Youth Union; a unit without any
contact is listed for the operator (endpoint, gauge, counter and a log line), never silently skipped."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from devtools.waiting import eventually
from services.reporting import gauges, scheduler, store
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.clock import FakeClock
from shared.events import Envelope
from shared.events.intake import UnitUpserted
from tests.reporting.test_monthly_counts import publish
from tests.reporting.test_plan_and_reminders import vn
from tests.support.asgi import running
from tests.support.credentials import grant
from tests.support.metrics import sample


async def test_reminders_reach_a_units_youth_union_and_a_unit_without_contact_is_listed(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SCHEDULER_INTERVAL", "3600")
    clock = FakeClock(vn(2025, 11, 28))
    settings = ReportingSettings()
    app = create_app(settings, clock=clock)
    async with running(app) as client:
        runtime = app.state.runtime
        operator = await grant(runtime.sessions, store.credentials, "operator")
        # the default map: every commune/ward of the merged province has its Youth Union's contacts
        assert (await client.get("/v1/units/without-contact", headers=operator)).json() == []
        # the Youth Union of Xã Tân Đông lost its contacts (intake's admin cleared them)
        cleared = UnitUpserted(code="xa-tan-dong", name_vi="Xã Tân Đông", kind="xã", valid_from=date(2025, 7, 1))
        await publish(
            base_env["RABBITMQ_URL"], base_env["BROKER_NAMESPACE"], [Envelope.wrap(cleared, producer="intake")]
        )

        async def listed() -> list[dict]:
            return (await client.get("/v1/units/without-contact", headers=operator)).json()

        assert await eventually(listed) == [
            {
                "code": "xa-tan-dong",
                "name_vi": "Xã Tân Đông",
                "kind": "xã",
                "addressee_vi": "Ban Thường vụ Đoàn xã Tân Đông",
            }
        ]
        async with runtime.sessions() as session:
            await gauges.refresh(session, date(2025, 11, 28), settings.monthly_report_due_day)
        assert sample((await client.get("/metrics")).text, "caunoi_units_without_contact") == 1
        # a former district (ended 2025-06-30) has no contact and is not listed: nobody reminds it
        reporter = await grant(runtime.sessions, store.credentials, "reporter", unit="phuong-tan-ninh")
        assert (await client.get("/v1/units/without-contact", headers=reporter)).status_code == 403

        before = sample((await client.get("/metrics")).text, "caunoi_unit_reminders_without_contact_total")
        clock.set(vn(2025, 12, 3))

        async def reminded() -> dict[str, dict]:
            await scheduler.run_once(runtime.sessions, runtime.outbox, clock, settings)
            async with runtime.sessions() as session:
                bodies = (await session.execute(select(store.outbox.c.envelope))).scalars().all()
            envelopes = map(Envelope.model_validate_json, bodies)
            return {
                e.payload["unit"]: e.payload
                for e in envelopes
                if e.type == "monthly_report.reminder" and e.payload["period"] == "2025-11"
            }

        reminders = await eventually(reminded)
        assert len(reminders) == 96  # every commune/ward, none skipped
        [tan_ninh] = reminders["phuong-tan-ninh"]["recipients"]
        assert tan_ninh["email"] == "doan.phuong-tan-ninh@tayninh.example" and tan_ninh["zalo_user_id"]
        assert set(tan_ninh["channels"]) == {"email", "zalo"}
        assert reminders["xa-tan-dong"]["recipients"] == []
        metrics = (await client.get("/metrics")).text
        assert sample(metrics, "caunoi_unit_reminders_without_contact_total") == before + 1
