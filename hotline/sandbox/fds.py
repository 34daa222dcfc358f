"""The descriptors a spawned daemon must not inherit."""

from __future__ import annotations

import os


def inherited_fds() -> list[int]:
    """This process's descriptors above stdio that a child would inherit (not close-on-exec)."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd > 2 and os.get_inheritable(fd):
                found.append(fd)
        except OSError:  # the listing's own descriptor, gone already
            continue
    return found
