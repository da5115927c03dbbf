"""The environment routing reads. Deadlines are settings so the club can change them without a release."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import ServiceSettings, development_secret

DATA = Path(__file__).resolve().parents[2] / "data"


class RoutingSettings(ServiceSettings):
    http_port: int = Field(default=8002)
    public_base_url: str = Field(
        default="http://127.0.0.1:8002", description="Base of the accept/decline links (routing, or a proxy to it)."
    )

    accept_within_hours_critical: float = Field(default=1, gt=0, description="Acceptance deadline, critical cases.")
    accept_within_hours_high: float = Field(default=4, gt=0, description="Acceptance deadline, high urgency.")
    accept_within_hours_medium: float = Field(default=24, gt=0, description="Acceptance deadline, medium urgency.")
    accept_within_hours_low: float = Field(default=72, gt=0, description="Acceptance deadline, low urgency.")
    emergency_intervention_hours: float = Field(
        default=12, gt=0, description="Decree 56: emergency intervention within this many hours (critical cases)."
    )
    emergency_escalation_step_hours: float = Field(
        default=1, gt=0, description="Hours between the emergency deadline's reminder and each escalation."
    )
    support_plan_working_days: int = Field(
        default=5, ge=1, description="Decree 56: support/intervention plan within this many working days."
    )
    counseling_default_fields: str = Field(
        default="psychology", description="Fields (`;`-separated) for a counseling topic that is not a category."
    )
    counseling_urgency: str = Field(
        default="medium", pattern="^(critical|high|medium|low)$", description="Acceptance window of counseling."
    )
    counseling_answer_working_days: int = Field(default=5, ge=1, description="Answer a counseling request within.")
    link_secret: str = Field(
        default="dev-only-routing-link-secret",
        min_length=16,
        description="HMAC key of the signed accept/decline links (the same on every replica; set it in production).",
        json_schema_extra=development_secret("change-me-routing-link-secret"),
    )
    link_ttl_hours: float = Field(default=72, gt=0, description="How long an accept/decline link stays valid.")
    link_path: str = Field(
        default="/v1/links", description="Path under PUBLIC_BASE_URL where routing's accept/decline links land."
    )
    timer_poll_interval: float = Field(default=1.0, gt=0, description="Seconds between sweeps of due timers.")
    timer_batch_size: int = Field(default=50, ge=1)
    assign_poll_interval: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between looks for reported cases waiting to be assigned when nothing wakes the "
        "assigner (the `case.reported` handler wakes it after each commit).",
    )
    assign_batch_size: int = Field(default=200, ge=1, description="Reported cases assigned per transaction.")
    categories_file: Path = Field(default=DATA / "case-categories.csv", description="Default taxonomy.")
    demo_club_file: Path = Field(default=DATA / "demo-club.csv", description="Members loaded by `seed`.")
    member_areas_file: Path = Field(
        default=DATA / "member-areas-2025.csv",
        description="Which member covers which communes/wards of the merged province, applied by `seed`.",
    )
    units_file: Path = Field(default=DATA / "units-tay-ninh-2023.csv", description="District units loaded by `seed`.")
    unit_successors_file: Path = Field(default=DATA / "unit-successors-2025.csv")

    def accept_within_hours(self, urgency: str) -> float:
        return float(getattr(self, f"accept_within_hours_{urgency}"))
