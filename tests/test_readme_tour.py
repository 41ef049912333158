"""The README's curl tours, run in order against the real server as a newcomer would
run them: keys, profiles, transactions, tops, then the shop, inventories and rewards.

Every answer that is an error must be one the README announces in the command's
comment (`# 409 item_held ...`): a tour that breaks because an earlier tour left
the data elsewhere (a balance too low, a deleted member) fails here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import backend
from tests.conftest import Server

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(shutil.which("curl") is None, reason="the tours use curl"),
]

README = Path(__file__).parent.parent / "README.md"
TOURS = ["## Keys", "### Profiles", "### Transactions", "## Tops, ranks", "## Shop, inventories"]


def _commands(section: str) -> list[str]:
    """The first ```sh block after `section`, continuation lines joined."""
    text = README.read_text()
    block = text[text.index(section) :].split("```sh\n", 1)[1].split("\n```", 1)[0]
    return [c for c in re.sub(r"\\\n\s*", " ", block).splitlines() if c.strip()]


def test_the_readme_tours_run_in_order(server: Server, tmp_path: Path) -> None:
    host = server.url.removeprefix("http://")
    commands = [c for section in TOURS for c in _commands(section)]
    script = ["set -u"]
    for n, command in enumerate(commands):
        command = command.replace("localhost:8000", host)
        command = command.replace(".venv/bin/voiceprofile", f"{sys.executable} -m app.cli")
        if command.startswith("ADMIN_KEY="):
            command = f"ADMIN_KEY='{server.admin_key}'"
        script += [f"echo '@@@ {n}'", command, "echo"]
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "VOICEPROFILE_DB": str(backend.target(server.db))},
    )
    assert done.returncode == 0, done.stderr
    answers = re.split(r"^@@@ (\d+)\n", done.stdout, flags=re.M)[1:]
    assert len(answers) == 2 * len(commands), done.stdout
    refused = []
    for n, out in zip(answers[::2], answers[1::2], strict=True):
        command = commands[int(n)]
        for line in out.splitlines():
            if line.startswith(("FAILED", "DIFF")):  # `ledger verify` in the tour
                refused.append((command, line))
            try:
                body = json.loads(line)
            except ValueError:
                continue
            if isinstance(body, dict) and isinstance(body.get("status"), int):
                announced = f"{body['status']} {body.get('code')}"
                if body["status"] >= 400 and announced not in command:
                    refused.append((command, line))
    assert refused == []
    assert re.search(r"^OK: \d+ entries", done.stdout, flags=re.M), done.stderr  # it did verify
    # the economy's tour did its work: the member holds one VIP, the claim was paid
    with server.client() as c:
        kinds = [t["kind"] for t in c.get("/transaction?limit=100").json()]
        held = c.get("/profile/131853185391/1242154218/inventory").json()
    assert {"purchase", "refund", "reward"} <= set(kinds)
    assert [(line["item_id"], line["quantity"]) for line in held] == [("vip", 1)]
