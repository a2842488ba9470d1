"""What a forked child makes, read back in the parent: for what a worker forked from a process
that already ran must learn again (its ids, its pid)."""

import os
from collections.abc import Callable


def in_child(make: Callable[[], str]) -> tuple[int, str]:
    """(the child's pid, the text `make()` returned in it)."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(writer, make().encode())
        os._exit(0)
    os.waitpid(child, 0)
    try:
        return child, os.read(reader, 65536).decode()
    finally:
        os.close(reader)
        os.close(writer)
