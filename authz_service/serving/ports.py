"""Whether `authz serve` can listen on host:port, asked before anything starts or is loaded
(`authz serve`, `authz demo --check-port` in `make run`; docs/decisions/021)."""

import errno
import socket


class PortUnavailable(Exception):
    """The address is in use, or cannot be listened on; the message says which and why."""


def require_free(host: str, port: int) -> None:
    """Bind host:port as gunicorn does (SO_REUSEADDR, so a closing connection does not count)
    and let it go at once; PortUnavailable when another process listens there."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise PortUnavailable(f"cannot serve on {host}:{port}: {exc.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortUnavailable(
                    f"{host}:{port} is already in use (another `authz serve`?): stop it, or "
                    "choose another port (--port; `make run PORT=9000`)") from None
            raise PortUnavailable(f"cannot serve on {host}:{port}: {exc.strerror}") from None
