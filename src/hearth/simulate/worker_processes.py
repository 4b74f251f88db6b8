"""Finding `hearth run --workers N`'s worker processes from outside, through ``/proc`` (Linux):
the supervisor's children, and which of them listen on the webhook port. Used by the
end-to-end worker tests and the scale-out benchmark, which run the workers as subprocesses
against the Bot API stand-in."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path


def children(parent: int) -> set[int]:
    """Live (not zombie) child processes of ``parent``."""
    found: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # gone meanwhile
            continue
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == parent and state != "Z":
            found.add(int(entry))
    return found


def listening_sockets(port: int) -> set[str]:
    """``socket:[inode]`` of every socket listening on ``port``."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rpartition(":")[2], 16) == port:
                    found.add(f"socket:[{inode}]")
    return found


def serving(pids: Iterable[int], port: int) -> set[int]:
    """Those of ``pids`` that hold a socket listening on ``port`` (started up and taking
    updates)."""
    sockets = listening_sockets(port)
    found: set[int] = set()
    for pid in pids:
        with suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in sockets:
                        found.add(pid)
                        break
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
