"""Relative `exclude-newer` values, spelt and recorded as uv 0.13.9 does (checked by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pyrun.core.spans import exclude_newer_moment, parse_span
from pyrun.errors import PyrunError


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("1 week", "P1W"),
        ("7 days", "P7D"),
        ("P7D", "P7D"),
        ("P1W", "P1W"),
        ("2 weeks", "P2W"),
        ("24 hours", "PT24H"),
        ("1 week ago", "-P1W"),
        ("1w", "P1W"),
        ("10 seconds", "PT10S"),
        ("P1DT12H", "P1DT12H"),
        ("1 day, 2 hours", "P1DT2H"),
        ("90 minutes", "PT90M"),
        ("1 week 2 days", "P1W2D"),
        ("1 hr", "PT1H"),
    ],
)
def test_spans_are_recorded_as_uv_records_them(text, iso):
    span = parse_span(text)
    assert span is not None and span.iso() == iso


@pytest.mark.parametrize("text", ["2025-06-01", "2025-06-01T00:00:00Z", "abc", "1.5 days", "P"])
def test_dates_timestamps_and_garbage_are_no_spans(text):
    assert parse_span(text) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "3 months",
            "Duration `3 months` uses 'months' which is not allowed; use days instead, "
            "e.g., `90 days`.",
        ),
        (
            "P1M",
            "Duration `P1M` uses 'months' which is not allowed; use days instead, e.g., `30 days`.",
        ),
        (
            "1 year",
            "Duration `1 year` uses unit 'years' which is not allowed; use days "
            "instead, e.g., `365 days`.",
        ),
    ],
)
def test_months_and_years_are_refused_with_uvs_words(text, message):
    with pytest.raises(PyrunError) as caught:
        parse_span(text)
    assert caught.value.message == message


def test_the_cutoff_moves_with_now_for_a_span_and_not_for_a_timestamp():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert exclude_newer_moment(None, "P1W", now) == now - timedelta(weeks=1)
    assert exclude_newer_moment(None, "-P1D", now) == now + timedelta(days=1)
    fixed = exclude_newer_moment("2025-06-01T00:00:00Z", None, now)
    assert fixed == datetime(2025, 6, 1, tzinfo=UTC)
    assert exclude_newer_moment(None, None, now) is None
