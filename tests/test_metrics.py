"""GET /metrics (SPEC §10): Prometheus text with request counts and latencies by
route and status, and the writer's batch sizes, commit times and queue depth."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def admin(make_key: Callable[..., dict[str, str]], client: TestClient) -> dict[str, str]:
    return make_key(scopes=("admin",))


def test_metrics_needs_the_admin_scope(client: TestClient, auth: dict) -> None:
    assert client.get("/metrics").status_code == 401
    denied = client.get("/metrics", headers=auth)
    assert denied.status_code == 403
    assert denied.json()["message"] == "missing scope admin"


def test_metrics_is_prometheus_text(client: TestClient, admin: dict) -> None:
    r = client.get("/metrics", headers=admin)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "# TYPE voiceprofile_requests_total counter" in r.text


def test_requests_are_counted_by_route_and_status(
    client: TestClient, auth: dict, admin: dict
) -> None:
    before = _samples(client.get("/metrics", headers=admin).text)
    assert client.post("/profile/5/6", headers=auth).status_code == 201
    assert client.get("/profile/5/6", headers=auth).status_code == 200
    assert client.get("/profile/5/7", headers=auth).status_code == 404
    assert client.get("/profile/5/7").status_code == 401
    assert client.get("/nowhere").status_code == 404
    after = _samples(client.get("/metrics", headers=admin).text)
    route = "/profile/{guild_id}/{user_id}"
    for method, path, status, count in [
        ("POST", route, "201", 1),
        ("GET", route, "200", 1),
        ("GET", route, "404", 1),
        ("GET", route, "401", 1),
        ("GET", "<unmatched>", "404", 1),
    ]:
        labels = {"method": method, "route": path, "status": status}
        name = "voiceprofile_requests_total"
        assert _value(after, name, **labels) - _value(before, name, **labels) == count, labels
    name = "voiceprofile_request_seconds_count"
    labels = {"method": "GET", "route": route}
    assert _value(after, name, **labels) - _value(before, name, **labels) == 3


def test_writer_batches_and_queue_are_reported(client: TestClient, auth: dict, admin: dict) -> None:
    before = _samples(client.get("/metrics", headers=admin).text)
    for user in range(3):
        assert client.post(f"/profile/5/{user + 10}", headers=auth).status_code == 201
    text = client.get("/metrics", headers=admin).text
    after = _samples(text)
    for name in (
        "voiceprofile_writer_batch_size_count",
        "voiceprofile_writer_commit_seconds_count",
    ):
        assert _value(after, name) - _value(before, name) >= 3
    assert _value(after, "voiceprofile_writer_batch_size_sum") >= 3
    assert re.search(r"^voiceprofile_writer_queue_depth \d", text, re.M)
    assert re.search(r"^voiceprofile_callbacks_pending 0", text, re.M)


def test_odd_methods_do_not_make_new_labels(client: TestClient, admin: dict) -> None:
    client.request("BREW", "/profile")
    text = client.get("/metrics", headers=admin).text
    assert 'method="BREW"' not in text
    assert 'method="OTHER"' in text


def test_built_boards_and_their_sizes_are_reported(
    client: TestClient, auth: dict, admin: dict
) -> None:
    for user in range(3):
        client.post(f"/profile/5/{user + 10}", json={"voicepoints": 1}, headers=auth)
    assert 'board="points"' not in client.get("/metrics", headers=admin).text
    client.get("/profile/5/top", headers=auth)  # builds the points board (sync mode)
    client.get("/profile/top", params={"by": "time", "timeframe": "week"}, headers=auth)
    text = client.get("/metrics", headers=admin).text
    assert _value(_samples(text), "voiceprofile_board_size", board="points") == 3
    assert 'voiceprofile_board_size{board="time:week"} 0.0' in text  # built, no activity
