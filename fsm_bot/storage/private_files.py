"""Files only the bot's user may read: the SQLite database and the exports hold students' names and absences.

A file created the ordinary way gets 0666 minus the umask, usually 0644: readable by every account on
the server. Changing the umask is process-wide, and the bot runs threads that create files of their
own, so the mode is given where each file is created instead (os.open's `mode`; mkstemp uses 0600).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

PRIVATE = 0o600


def create_private(path: str | os.PathLike[str]) -> bool:
    """Create `path` empty with mode 0600 unless it exists (then it is left as its owner set it).

    True if created. O_EXCL: a file that appeared meanwhile is not truncated, nor is a symlink followed.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        return False
    os.close(descriptor)
    return True


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` with mode 0600, whole or not at all.

    The bytes go to a 0600 temporary file beside `path` that then replaces it, so a reader never sees
    half an export, and a file that was there before (perhaps 0644) is replaced, not reused with its
    mode. A path that is not a regular file (/dev/stdout, a pipe) is written in place: it has no mode
    of ours to set and cannot be replaced.
    """
    target = Path(os.path.realpath(path))  # a symlink's target is written, the link stays
    if target.exists() and not target.is_file():
        target.write_bytes(data)
        return
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
