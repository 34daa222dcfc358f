"""The sandbox waits a moment for its ports (an Asterisk just stopped may still hold them),
then says clearly which one is taken."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from hotline.errors import SandboxError
from hotline.sandbox.instance import _wait_port_free


def _listening() -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


async def test_a_port_held_for_good_is_named_in_the_error() -> None:
    sock, port = _listening()
    with sock, pytest.raises(SandboxError, match=f"127.0.0.1:{port}/TCP is already in use"):
        await _wait_port_free(port, socket.SOCK_STREAM, grace_s=0.3)


async def test_a_port_released_within_the_grace_is_taken() -> None:
    sock, port = _listening()
    asyncio.get_running_loop().call_later(0.2, sock.close)
    await _wait_port_free(port, socket.SOCK_STREAM, grace_s=3)


def test_the_sandbox_asterisk_inherits_no_descriptor_beyond_stdio(tmp_path: Path) -> None:
    """A lock held by whoever ran `sandbox up` (flock FILE make test) must not be kept by the
    daemon: every inheritable descriptor above stdio is closed in the spawned child."""
    import os

    from hotline.sandbox.fds import inherited_fds

    lock = os.open(tmp_path / "lock", os.O_CREAT | os.O_RDWR)
    private = os.open(tmp_path / "private", os.O_CREAT | os.O_RDWR)
    try:
        os.set_inheritable(lock, True)  # as flock(1) passes its lock to the command it runs
        found = inherited_fds()
        assert lock in found and private not in found and not {0, 1, 2} & set(found)
    finally:
        os.close(lock)
        os.close(private)
