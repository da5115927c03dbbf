"""The process clock: shifted only in development mode, so a production process always reads real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from shared.clock import clock_from_settings, offset_to
from shared.settings import ServiceSettings


def test_a_clock_offset_is_refused_outside_development_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOCK_OFFSET_SECONDS", "3600")
    monkeypatch.delenv("DEVELOPMENT_MODE", raising=False)
    with pytest.raises(ValidationError, match="CLOCK_OFFSET_SECONDS is refused unless DEVELOPMENT_MODE"):
        ServiceSettings()


def test_in_development_mode_the_process_clock_lives_at_the_instant_it_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    night = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 00:30 on New Year's Day in Tây Ninh
    monkeypatch.setenv("DEVELOPMENT_MODE", "true")
    monkeypatch.setenv("CLOCK_OFFSET_SECONDS", str(offset_to(night)))
    clock = clock_from_settings(ServiceSettings())
    assert abs(clock.now() - night) < timedelta(seconds=5)


def test_without_an_offset_the_clock_is_the_real_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOCK_OFFSET_SECONDS", raising=False)
    clock = clock_from_settings(ServiceSettings())
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
    assert clock.now().tzinfo is not None
