"""Finding worker processes through /proc: the children of a supervisor, and which of them
listen on the webhook port."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import pytest

from hearth.simulate.worker_processes import children, free_port, serving

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


async def test_a_started_child_process_is_found_until_it_exits() -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "input()", stdin=asyncio.subprocess.PIPE
    )
    assert child.pid in children(os.getpid())
    assert child.stdin is not None
    child.stdin.close()
    await child.wait()
    assert child.pid not in children(os.getpid())


def test_a_process_serves_the_port_it_listens_on_and_no_other() -> None:
    port = free_port()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        assert serving([os.getpid()], port) == set()  # bound, not yet listening
        listener.listen()
        assert serving([os.getpid()], port) == {os.getpid()}
        assert serving([os.getpid()], free_port()) == set()
