"""The image store's files: each stored once, named by the SHA-256 of its bytes.

`<root>/<first two hex digits>/<sha256>.<ext>`: a name says what the file holds, so
a file is written once and never changed (the server serves it with that hash as
ETag and a year of caching). Writes go to a temporary file in the same folder,
are flushed to disk, then renamed into place: a file is whole or absent.

Rows in `images` point at files; a file no row points at any more is removed after
the commit that deleted its last row (storage/queries/images.py), and an upload that
finds its file missing writes it again inside its write task, so a delete racing an
upload of the same bytes never leaves a row without its file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

__all__ = ["EXTENSIONS", "MediaStore", "digest"]

EXTENSIONS = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
"""File types the store keeps: extension -> media type."""

_NAME = re.compile(r"^(?P<sha>[0-9a-f]{64})\.(?P<ext>[a-z]+)$")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str, ext: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.{ext}"

    @staticmethod
    def parse(name: str) -> tuple[str, str] | None:
        """(sha256, ext) of a served file name, or None if it cannot be one."""
        found = _NAME.match(name)
        if found is None or found["ext"] not in EXTENSIONS:
            return None
        return found["sha"], found["ext"]

    def exists(self, sha256: str, ext: str) -> bool:
        return self.path(sha256, ext).is_file()

    def write(self, sha256: str, ext: str, data: bytes) -> None:
        """Store `data` under its hash unless a file is already there (synchronous:
        run it in a thread from async code)."""
        target = self.path(sha256, ext)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".upload-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def remove(self, sha256: str, ext: str) -> None:
        self.path(sha256, ext).unlink(missing_ok=True)
