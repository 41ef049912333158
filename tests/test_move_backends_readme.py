"""The README's move between SQLite and PostgreSQL (SPEC §11), run as written against a real
server and the run's own PostgreSQL cluster."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import backend, pg_cluster
from tests.conftest import start_server
from tests.move_helpers import ROOT, _populate


def _readme_blocks() -> list[str]:
    """The two ```sh blocks of the README's "Moving to PostgreSQL", lines joined."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Moving to PostgreSQL") :].split("\n### ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, flags=re.S)


@pytest.mark.server
def test_the_readme_move_runs_as_written(tmp_path: Path) -> None:
    """The README's steps, run as an operator would (the host is the test's cluster,
    `voiceprofile` the server's role): createdb, import, verify, cmp, and back. The
    `serve` lines are the one thing not run as written (port 8000 may be taken): the
    server is started on the moved database instead and answers with an old key."""
    pg = backend.cluster()
    data = tmp_path / "data"
    data.mkdir()
    key = _populate(data / "voiceprofile.db", 1)
    where = f"127.0.0.1:{pg.port}"
    with pg.admin() as admin:
        admin.execute("DROP DATABASE IF EXISTS voiceprofile WITH (FORCE)")
        admin.execute("DROP ROLE IF EXISTS voiceprofile")
        admin.execute("CREATE ROLE voiceprofile LOGIN")  # not a superuser
    script, serves = ["set -eu"], []
    for command in "\n".join(_readme_blocks()).splitlines():
        command = command.replace(".venv/bin/voiceprofile", f"{sys.executable} -m app.cli")
        command = command.replace("createdb ", f"{pg_cluster.bin_dir() / 'createdb'} ")
        command = command.replace("-h db.example.org", f"-h 127.0.0.1 -p {pg.port}")
        command = command.replace("db.example.org", where)
        if "-m app.cli serve" in command:
            serves.append(command)
            continue
        script.append(command)
    try:
        done = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert done.returncode == 0, (done.stdout, done.stderr)
        heads = [x for x in done.stdout.splitlines() if x.startswith("head: ")]
        assert len(heads) == 3 and len(set(heads)) == 1, done.stdout  # file, PG, back
        assert len(serves) == 2 and 'VOICEPROFILE_DB="$PG"' in serves[0]
        url = f"postgresql://voiceprofile@{where}/voiceprofile"
        server = start_server(url, tmp_path / "serve.log")  # type: ignore[arg-type]
        try:
            with server.client(key["Authorization"]) as c:
                r = c.get("/profile/101/10")
            assert r.status_code == 200, r.text
        finally:
            server.stop()
    finally:
        with pg.admin() as admin:
            admin.execute("DROP DATABASE IF EXISTS voiceprofile WITH (FORCE)")
            admin.execute("DROP ROLE IF EXISTS voiceprofile")
