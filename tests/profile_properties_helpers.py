"""The hypothesis settings the profile property tests share."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
