"""An exclusive lock on a batch output: ``.NAME.lock`` beside ``NAME``."""

import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path

from slicing.batch.errors import OutputInUseError

__all__ = ["OutputLock"]

logger = logging.getLogger("slicing.batch")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutputLock:
    """An exclusive lock on an output's staging area: ``.NAME.lock`` beside ``NAME``.

    Taken with ``flock`` (released by the kernel if the holder dies) and holding the
    holder's pid, host and start time, so that a refused run can say who holds it. A
    lock file left by a dead process on this host is broken, and a note says so.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> output = Path(tempfile.mkdtemp()) / "slices.parquet"
    >>> first, second = OutputLock(output), OutputLock(output)
    >>> first.acquire()
    >>> try:
    ...     second.acquire()
    ... except OutputInUseError as error:
    ...     print("pid" in str(error) and "host" in str(error))
    True
    >>> first.release()
    >>> second.acquire(); second.release()
    """

    def __init__(self, output: Path) -> None:
        self.output = output
        self.path = output.with_name(f".{output.name}.lock")
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`OutputInUseError` naming the holder."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self._holder(fd)
                os.close(fd)
                raise OutputInUseError(
                    f"another run is writing {str(self.output)!r} ({holder}); wait "
                    f"for it to finish (lock file {str(self.path)!r})"
                ) from None
            # The previous holder may have removed the file between our open and flock.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        stale = self._read(fd)
        if stale.get("pid") is not None:
            # The kernel dropped the holder's flock: it died (or, on another host,
            # at least no longer holds the lock).
            dead = stale.get("host") == socket.gethostname() and not _pid_alive(
                stale["pid"]
            )
            logger.warning(
                "broke a stale lock on this output left by pid %s on %s (started %s), "
                "which %s",
                stale.get("pid"),
                stale.get("host"),
                stale.get("started"),
                "is no longer running" if dead else "no longer holds it",
            )
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                }
            ).encode(),
            0,
        )
        self.fd = fd

    @staticmethod
    def _read(fd: int) -> dict:
        try:
            return json.loads(os.pread(fd, 4096, 0) or b"{}")
        except ValueError:
            return {}

    def _holder(self, fd: int) -> str:
        holder = self._read(fd)
        if not holder:
            return "holder unknown"
        return (
            f"pid {holder.get('pid')} on host {holder.get('host')}, "
            f"started {holder.get('started')}"
        )

    def release(self) -> None:
        """Remove the lock file, then unlock (a no-op if not held)."""
        if self.fd is None:
            return
        self.path.unlink(missing_ok=True)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None
