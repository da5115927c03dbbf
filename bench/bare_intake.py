"""The bare reference for `POST /v1/cases`: the thinnest FastAPI + asyncpg handler that validates the
same body and writes one case row and one outbox row in one transaction.

No ORM, no authentication lookup, no encryption, no metrics middleware, no relay: what is left is the
price of the stack itself (uvicorn, FastAPI, pydantic, asyncpg, one PostgreSQL commit), which is what
intake's figure is divided by.

    BARE_DSN=postgresql://... python -m bench.bare_intake --port 8101
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import asyncpg
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

CATEGORIES = frozenset(
    row["code"] for row in csv.DictReader((Path(__file__).resolve().parents[1] / "data" / "case-categories.csv").open())
)

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS bare;
CREATE SEQUENCE IF NOT EXISTS bare.case_seq;
CREATE TABLE IF NOT EXISTS bare.cases (
    id uuid PRIMARY KEY, code text NOT NULL UNIQUE, unit text NOT NULL, category text NOT NULL,
    urgency text NOT NULL, summary text NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS bare.outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id uuid NOT NULL UNIQUE, type text NOT NULL,
    key text, envelope text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), published_at timestamptz);
"""


class CaseIn(BaseModel):
    unit: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=64)
    urgency: Literal["critical", "high", "medium", "low"]
    summary: str = Field(min_length=1, max_length=5000)


def create_app(dsn: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
        async with app.state.pool.acquire() as conn:
            await conn.execute(SCHEMA)
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/cases", status_code=201)
    async def report(case: CaseIn, request: Request) -> dict[str, str]:
        if case.category not in CATEGORIES:
            raise HTTPException(422, detail=[{"loc": ["body", "category"], "msg": "unknown category"}])
        case_id, now = uuid.uuid4(), datetime.now(UTC)
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            seq = await conn.fetchval("SELECT nextval('bare.case_seq')")
            code = f"TN-{now.year}-{seq:06d}"
            await conn.execute(
                "INSERT INTO bare.cases VALUES ($1, $2, $3, $4, $5, $6, 'reported', $7)",
                case_id,
                code,
                case.unit,
                case.category,
                case.urgency,
                case.summary,
                now,
            )
            envelope = {
                "event_id": str(uuid.uuid4()),
                "type": "case.reported",
                "version": 1,
                "occurred_at": now.isoformat(),
                "producer": "intake",
                "correlation_id": str(uuid.uuid4()),
                "payload": {
                    "case_id": str(case_id),
                    "code": code,
                    "unit": case.unit,
                    "category": case.category,
                    "urgency": case.urgency,
                },
            }
            await conn.execute(
                "INSERT INTO bare.outbox (event_id, type, key, envelope) VALUES ($1, 'case.reported', $2, $3)",
                uuid.UUID(envelope["event_id"]),
                str(case_id),
                json.dumps(envelope),
            )
        return {"id": str(case_id), "code": code, "status": "reported"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8101)
    args = parser.parse_args()
    uvicorn.run(
        create_app(os.environ["BARE_DSN"]), host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )
