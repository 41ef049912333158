"""A postgresql:// URL as the server shows it (the `serving on ...` line, errors):
the password never appears, and the hosts are shown as given, a libpq multi-host list
(a primary and its standbys, README "High availability on PostgreSQL") included."""

from __future__ import annotations

import pytest

from storage.engine import open_engine


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://vp@db:5432/vp", "postgresql://vp@db:5432/vp"),
        ("postgresql://vp:s3cret@db:5432/vp", "postgresql://vp:***@db:5432/vp"),
        (
            "postgresql://vp:s3cret@db1:5432,db2:5432/vp?target_session_attrs=read-write",
            "postgresql://vp:***@db1:5432,db2:5432/vp?target_session_attrs=read-write",
        ),
        ("postgresql://vp:s3cret@[::1]:5432/vp", "postgresql://vp:***@[::1]:5432/vp"),
        (
            "postgresql://db/vp?user=vp&password=s3cret&sslmode=require",
            "postgresql://db/vp?user=vp&password=***&sslmode=require",
        ),
        ("postgres://vp:p%40ss@db/vp", "postgres://vp:***@db/vp"),
    ],
)
def test_the_password_is_masked_and_every_host_kept(url: str, shown: str) -> None:
    assert open_engine(url).location == shown
