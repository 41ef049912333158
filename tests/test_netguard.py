"""The server connects only to public addresses unless the operator allows more
(issue 10, finding 1): callback URLs are checked when set (422 naming `url`) and
again at every connection, against the DNS answer of that moment."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from app.netguard import Guard, Policy, Refused, is_public
from tests import backend, callbacks_helpers
from tests.callbacks_helpers import finished_outbox_row
from tests.receivers import Receiver

SECRET = "s3cret-for-tests"

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://127.0.0.1:8000/hook",
    "http://localhost/hook",
    "http://LOCALHOST./hook",
    "http://api.localhost/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
    "http://172.16.5.4/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",  # shared (carrier-grade NAT)
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://0.0.0.0/hook",
    "http://[::]/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one number
    "http://0x7f.1/hook",
    "http://127.1/hook",
    "http://017700000001/hook",
    "http://224.0.0.1/hook",  # multicast
    "http://user@example.com/hook",
    "http://user:password@93.184.216.34/hook",
    "https://example.com:99999/hook",
    "ftp://example.com/hook",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_url_to_a_non_public_address_is_refused(client: TestClient, auth: dict, url: str) -> None:
    r = client.put("/callback/transaction", json={"url": url, "secret": SECRET}, headers=auth)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "url"
    assert client.get("/callbacks", headers=auth).json() == []


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.216.34/hook",
        "http://[2606:2800:220:1:248:1893:25c8:1946]:8080/hook",
        "https://hooks.example.invalid/hook",  # does not resolve now: checked at delivery
    ],
)
def test_a_public_url_is_accepted(client: TestClient, auth: dict, url: str) -> None:
    r = client.put("/callback/transaction", json={"url": url, "secret": SECRET}, headers=auth)
    assert r.status_code == 200, r.text


def test_the_operator_allows_chosen_hosts(db_path: Path, make_key) -> None:
    allow = ("127.0.0.1", "10.1.0.0/16", "hooks.internal")
    with TestClient(create_app(Settings(db=backend.target(db_path), allow_hosts=allow))) as client:
        auth = make_key()
        for url, status in [
            ("http://127.0.0.1:9000/hook", 200),
            ("http://10.1.2.3/hook", 200),
            ("http://hooks.internal/hook", 200),
            ("http://127.0.0.2/hook", 422),
            ("http://10.2.0.1/hook", 422),
            ("http://localhost:9000/hook", 422),  # a name is allowed by name only
        ]:
            body = {"url": url, "secret": SECRET}
            r = client.put("/callback/transaction", json=body, headers=auth)
            assert r.status_code == status, (url, r.text)


def test_allow_hosts_comes_from_the_environment(db_path: Path) -> None:
    env = {"VOICEPROFILE_ALLOW_HOSTS": " 127.0.0.1, hooks.internal ,,10.0.0.0/8 "}
    assert Settings.from_env(env).allow_hosts == ("127.0.0.1", "hooks.internal", "10.0.0.0/8")
    assert Settings.from_env({}).allow_hosts == ()
    with pytest.raises(SystemExit, match="VOICEPROFILE_ALLOW_HOSTS"):
        create_app(Settings(db=backend.target(db_path), allow_hosts=("10.0.0.0/33",)))


# -- at delivery time -----------------------------------------------------------------


def _app(db_path: Path, allow: tuple[str, ...]) -> TestClient:
    settings = Settings(
        db=backend.target(db_path),
        allow_hosts=allow,
        callback_retry_base=0.01,
        callback_poll=0.05,
        callback_max_attempts=2,
    )
    return TestClient(create_app(settings))


receiver = callbacks_helpers.receiver  # a fixture shared by several modules


def _set(client: TestClient, auth: dict, url: str) -> None:
    body = {"url": url, "secret": SECRET}
    r = client.put("/callback/profile.create", json=body, headers=auth)
    assert r.status_code == 200, r.text


def _guard(client: TestClient) -> Guard:
    return client.app.state.services.deliverer.guard  # type: ignore[no-any-return]


def test_a_host_allowed_when_set_but_not_at_delivery_is_not_reached(
    db_path: Path, make_key, receiver: Receiver
) -> None:
    """Set while the operator allowed `localhost`; the server restarts without it:
    the events are retried and given up, and the receiver sees no request."""
    with _app(db_path, ("localhost",)) as client:
        auth = make_key()
        _set(client, auth, f"http://localhost:{receiver.port}/hook")
    with _app(db_path, ()) as client:
        assert client.post("/profile/1/2", headers=auth).status_code == 201
        row = finished_outbox_row(db_path, 20)
    assert row is not None
    attempts, delivered, _, error = row
    assert (attempts, delivered) == (2, 0)
    assert error.startswith("refused: localhost (127.0.0.1) is not a public address")
    assert receiver.attempts == 0


def test_a_dns_answer_that_changes_after_the_check_is_checked_again(
    db_path: Path, make_key, receiver: Receiver
) -> None:
    """The name resolved to a public address when set, to 127.0.0.1 at delivery."""
    answers = {"hooks.example": ["93.184.216.34"]}

    async def resolver(host: str, port: int) -> list[str]:
        return answers[host]

    with _app(db_path, ()) as client:
        _guard(client).resolver = resolver
        auth = make_key()
        _set(client, auth, f"http://hooks.example:{receiver.port}/hook")
        answers["hooks.example"] = ["127.0.0.1"]
        assert client.post("/profile/1/2", headers=auth).status_code == 201
        row = finished_outbox_row(db_path, 20)
    assert row is not None and row[:2] == (2, 0)
    assert row[3].startswith("refused: hooks.example (127.0.0.1) is not a public address")
    assert receiver.attempts == 0


def test_the_connection_goes_to_the_address_that_was_checked(
    db_path: Path, make_key, receiver: Receiver
) -> None:
    """No second lookup between the check and the connection: a name only the
    guard's resolver knows is reached at the address it gave, with its Host."""

    async def resolver(host: str, port: int) -> list[str]:
        return {"hooks.example": ["127.0.0.1"]}[host]

    with _app(db_path, ("127.0.0.1",)) as client:
        _guard(client).resolver = resolver
        auth = make_key()
        _set(client, auth, f"http://hooks.example:{receiver.port}/hook")
        assert client.post("/profile/1/2", headers=auth).status_code == 201
        assert len(receiver.wait_for(1)) == 1
    headers = receiver.received[0][0]
    assert headers["Host"] == f"hooks.example:{receiver.port}"


# -- the module ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("2002:5db8:d822::1", True),  # 6to4 of 93.184.216.34
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("255.255.255.255", False),
        ("239.1.2.3", False),
        ("::1", False),
        ("::", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def test_policy_parse() -> None:
    policy = Policy.parse(["Hooks.Internal.", "127.0.0.1", "10.0.0.0/8", "[::1]"])
    assert policy.names == {"hooks.internal"}
    assert policy.allows_name("HOOKS.internal.")
    assert policy.allows(ipaddress.ip_address("10.9.9.9"))
    assert policy.allows(ipaddress.ip_address("::1"))
    assert not policy.allows(ipaddress.ip_address("127.0.0.2"))
    for bad in ["10.0.0.0/33", "http://x", "a b", "-x.org"]:
        with pytest.raises(ValueError, match="not a host name"):
            Policy.parse([bad])


async def test_every_address_of_a_name_is_checked() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.1"]

    guard = Guard(resolver=resolver)
    with pytest.raises(Refused, match=r"10\.0\.0\.1"):
        await guard.addresses("mixed.example", 443)
    with pytest.raises(Refused, match="public"):
        await guard.check_url("https://mixed.example/hook")
    allowed = Guard(Policy.parse(["mixed.example"]), resolver=resolver)
    assert await allowed.addresses("mixed.example", 443) == ["93.184.216.34", "10.0.0.1"]
