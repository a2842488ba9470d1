"""The error a bad policy raises: always with the file and line (R9.2)."""


class PolicyError(Exception):
    """A policy file is wrong; `problems` lists every (file, line, message) found."""

    def __init__(self, problems: list[tuple[str, int, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{f}:{n}: {msg}" for f, n, msg in problems))
