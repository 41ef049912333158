"""The real `voiceprofile serve` process, over HTTP."""

import signal

import httpx

from tests.conftest import Server, start_server


def test_first_start_prints_an_admin_key_that_works(server: Server) -> None:
    assert server.admin_key.startswith("vps_")
    with server.client() as c:
        me = c.get("/auth/me").json()
        assert "admin" in me["scopes"]
        made = c.post("/keys", json={"name": "bot", "bot_id": "42"})
        assert made.status_code == 201
        bot = server.client(made.json()["key"])
        created = bot.post("/profile/1/2", json={"voicepoints": 50})
        assert created.status_code == 201
        assert created.json()["voicepoints"] == 50
        assert bot.get("/profile/1/2").json()["voicepoints"] == 50
        bot.close()
        assert httpx.get(f"{server.url}/profile/1/2").status_code == 401


def test_sigterm_commits_and_restart_keeps_everything(server: Server, tmp_path) -> None:
    with server.client() as c:
        for user in range(20):
            assert c.post(f"/profile/7/{user}", json={"voicepoints": user}).status_code == 201
    assert server.stop(signal.SIGTERM) == 0
    again = start_server(server.db, tmp_path / "again.log")
    try:
        assert again.admin_key == ""  # printed on the very first start only
        with again.client(server.admin_key) as c:
            listed = c.get("/profile/7", params={"limit": 0})
            assert listed.headers["X-Total-Count"] == "20"
            assert sorted(p["voicepoints"] for p in listed.json()) == list(range(20))
    finally:
        again.stop()
