"""HTTP/1.1 answers read off a raw socket, for tests that send bytes a client library would not."""

import socket


def content_length(raw: bytes) -> int:
    """The Content-Length of the answer whose head starts raw (0 without one)."""
    for line in raw.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def parse(raw: bytes) -> tuple[int, dict, bytes]:
    """(status, headers by lower-case name, body) of one answer."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def answers(sock: socket.socket, count: int) -> list[bytes]:
    """The next `count` whole answers on sock (fewer if it closes), each head and body."""
    raw, got = b"", []
    while len(got) < count:
        head_end = raw.find(b"\r\n\r\n")
        if head_end >= 0 and len(raw) >= head_end + 4 + content_length(raw):
            end = head_end + 4 + content_length(raw)
            got.append(raw[:end])
            raw = raw[end:]
            continue
        chunk = sock.recv(65536)
        if not chunk:
            break
        raw += chunk
    return got
