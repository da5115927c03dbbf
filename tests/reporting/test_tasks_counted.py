"""The Standing Committee's tasks are counted from `task.assigned` / `task.completed` (on time or late by the
Vietnamese date) and printed in the review."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime

import docx

from devtools.waiting import eventually
from services.reporting import store
from services.reporting.documents import docx_markdown
from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.clock import FakeClock
from shared.events import Envelope
from shared.events.routing import TaskAssigned, TaskCompleted
from tests.reporting.test_monthly_counts import publish
from tests.support.asgi import running
from tests.support.credentials import grant


def task(code: str, due: date, done_at: datetime | None) -> list[Envelope]:
    task_id = uuid.uuid4()
    assigned = TaskAssigned(
        task_id=task_id,
        code=code,
        title_vi="Góp ý dự thảo kế hoạch",
        fields=("law",),
        due_on=due,
        assigned_at=datetime(2026, 3, 1, 3, 0, tzinfo=UTC),
    )
    out = [Envelope.wrap(assigned, producer="routing")]
    if done_at is not None:
        out.append(
            Envelope.wrap(
                TaskCompleted(task_id=task_id, code=code, due_on=due, completed_at=done_at), producer="routing"
            )
        )
    return out


async def test_tasks_are_counted_on_time_or_late_and_printed_in_the_review(base_env, monkeypatch):
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    app = create_app(ReportingSettings(), clock=FakeClock(datetime(2026, 12, 20, 2, 0, tzinfo=UTC)))
    async with running(app) as client:
        chair = await grant(app.state.runtime.sessions, store.credentials, "chair")
        events = task("NV-2026-001", date(2026, 3, 15), datetime(2026, 3, 15, 16, 30, tzinfo=UTC))  # 23:30 on the 15th
        events += task("NV-2026-002", date(2026, 3, 15), datetime(2026, 3, 15, 17, 30, tzinfo=UTC))  # 00:30 on the 16th
        events += task("NV-2026-003", date(2026, 12, 31), None)
        await publish(base_env["RABBITMQ_URL"], base_env["BROKER_NAMESPACE"], events)

        async def counted() -> dict:
            body = (await client.get("/v1/reports/summary", params={"period": "2026"}, headers=chair)).json()
            return body["tasks"] if sum(body["tasks"].values()) == 5 else {}

        assert await eventually(counted) == {"assigned": 3, "done": 1, "done_late": 1}
        review = await client.get("/v1/reports/review", params={"kind": "annual", "year": 2026}, headers=chair)
        text = docx_markdown(docx.Document(io.BytesIO(review.content)))
        assert (
            "Ban Thường vụ Tỉnh đoàn giao Câu lạc bộ 3 nhiệm vụ; đã hoàn thành 2 nhiệm vụ (1 đúng hạn, 1 trễ hạn)."
            in text
        )
