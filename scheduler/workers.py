"""Which Herald processes of this machine are alive, so that a restarted one takes over the posts
of its dead predecessor at once instead of after their leases.

Each worker holds an exclusive lock (flock) on a file of its own while it runs. The kernel drops
the lock when the process ends, however it ends — SIGKILL and out-of-memory kills too — and it
cannot be fooled by a pid used again, as in a restarted container. A file whose lock another
process can take therefore belongs to a dead worker. The files live in the data folder under
this kernel's boot id: only processes of one running kernel judge each other (a folder shared
with other machines, or one left from before a reboot, is never taken for proof of death)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
from pathlib import Path

log = logging.getLogger(__name__)

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
SUFFIX = ".lock"


def machine_key() -> str:
    """This running kernel: its boot id, else (no /proc) the host name."""
    try:
        return BOOT_ID.read_text().strip() or socket.gethostname()
    except OSError:
        return socket.gethostname()


class WorkerRegistry:
    """The live workers of this machine, as lock files in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / machine_key()
        self._fd: int | None = None
        self._path: Path | None = None

    def join(self, worker_id: str) -> bool:
        """Announce `worker_id` as alive for as long as this process runs; False if the folder
        cannot be used (the worker then runs, and its posts are taken over after their leases)."""
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Locked under a temporary name first: nobody may find the file unlocked and take the
            # worker for dead in between.
            temporary = self.directory / f".{worker_id}.new"
            fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, f"{os.getpid()}\n".encode())
            path = self.directory / f"{worker_id}{SUFFIX}"
            os.replace(temporary, path)
        except OSError as error:
            log.warning(
                "cannot register this worker in %s (%s): a restart takes its posts over only after their leases",
                self.directory,
                error,
            )
            return False
        self._fd, self._path = fd, path
        return True

    def dead(self) -> list[str]:
        """The workers of this machine that ended without leaving; each is named once (its file
        is removed), so its claims are released by one process."""
        found: list[str] = []
        try:
            entries = list(self.directory.glob(f"*{SUFFIX}"))
        except OSError:
            return found
        for path in entries:
            if path == self._path:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except OSError:
                continue  # removed meanwhile by whoever found it first
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue  # alive
            try:
                if os.stat(path).st_ino != os.fstat(fd).st_ino:
                    continue  # replaced by a new file meanwhile: not what we locked
                path.unlink()
                found.append(path.name.removesuffix(SUFFIX))
            except OSError:
                continue
            finally:
                os.close(fd)
        return found

    def leave(self) -> None:
        """This worker stops: its file goes (nothing of its own is left to take over)."""
        if self._fd is None or self._path is None:
            return
        with contextlib.suppress(OSError):
            self._path.unlink()
        os.close(self._fd)
        self._fd = self._path = None
