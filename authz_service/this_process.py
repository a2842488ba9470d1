"""This process's id, kept: learnt at import and again in a child after a fork, so that what runs
per request (the metrics' per-process files, the access line) makes no getpid() system call."""

import os

_pid = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


def pid() -> int:
    return _pid[0]
