"""Files: atomic writes (a reader never sees a half-written file, and a failed write leaves nothing behind) and an
advisory lock that makes one process the only writer of a result folder."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: the lock file inside a locked folder (removed when the lock is released)
LOCK_NAME = ".qbhw.lock"


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    Keeps an existing file's permission bits (a new file gets 0644). Creates missing parent folders. On any
    failure (a full disk, an interrupt) the temporary file is removed and ``path`` is as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, mode)  # mkstemp creates 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], *, owner: str = "") -> Iterator[Path]:
    """Hold an exclusive advisory lock (``fcntl.flock``) on ``folder/.qbhw.lock`` for the block; raise
    BlockingIOError at once (no waiting) when another process holds it, with ``filename`` the folder and
    ``strerror`` what the holder wrote into the lock file: its process id and ``owner`` (e.g. its command).

    The kernel releases the lock when the process ends, however it ends (a crash or a kill leaves no stale lock,
    at most a lock file nobody holds). The file is removed on release; a process that opened it just before checks
    after locking that the path still names the file it locked, else it starts over. Advisory: it excludes only
    processes that take the same lock (every qbhw writer of a result folder does).
    """
    import fcntl

    path = Path(folder) / LOCK_NAME
    for _ in range(_LOCK_ATTEMPTS):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise BlockingIOError(errno.EWOULDBLOCK, holder or "held by another process", str(folder)) from None
        try:  # the holder before us may have removed the file after we opened it: lock the file that is there
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    else:  # pragma: no cover - the file was replaced _LOCK_ATTEMPTS times in a row
        raise BlockingIOError(errno.EWOULDBLOCK, "the lock file keeps changing", str(folder))
    try:
        os.pwrite(fd, f"pid {os.getpid()}{': ' + owner if owner else ''}\n".encode(), 0)
        try:
            yield Path(folder)
        finally:
            with contextlib.suppress(OSError):  # the lock file goes with the lock (a later locker checks the inode)
                os.unlink(path)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


#: how often ``folder_lock`` retries when the lock file was replaced between its open and its lock
_LOCK_ATTEMPTS = 5
