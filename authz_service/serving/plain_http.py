"""The plain decision requests serving/inline.py answers itself: which requests they are, the
environ gunicorn's wsgi.create builds for them, and the bytes gunicorn's Response writes for the
app's answer (docs/decisions/047-inline-decisions.md; tests/unit/test_inline_front.py compares
each with gunicorn's own)."""

import io
from email.utils import formatdate

from gunicorn import SERVER
from gunicorn.http.message import TOKEN_RE
from gunicorn.http.wsgi import HEADER_VALUE_RE, base_environ
from gunicorn.util import hop_headers
from gunicorn_h1c import parse_request

from authz_service.serving.access_log import PerSecond

# api/fast.py's ROUTES (a test keeps the two equal). Not imported: this module is loaded in the
# master, before `authz serve` tells prometheus_client (imported by the api) where to count.
PATHS = frozenset({b"/v1/authorize", b"/access/v1/evaluation", b"/access/v1/evaluations"})
REFUSED = frozenset({b"transfer-encoding", b"expect", b"upgrade", b"script_name",
                     b"te", b"trailer", b"keep-alive", b"proxy-connection"})


class Plain:
    """A whole, plainly framed decision request: its header fields as gunicorn names them, its body."""

    __slots__ = ("path", "headers", "body")

    def __init__(self, path: str, headers: list[tuple[str, str]], body: bytes):
        self.path, self.headers, self.body = path, headers, body


def limits(cfg) -> tuple[int, int, int]:
    """gunicorn's request line, field count and field size limits, as its parsers apply them."""
    return cfg.limit_request_line, cfg.limit_request_fields, cfg.limit_request_field_size


def plain(data: bytes, head_limits: tuple[int, int, int], max_body: int) -> Plain | None:
    """The request in data when it is one this module serves, else None (module docstring)."""
    if not data.startswith(b"POST /"):
        return None
    try:
        head = parse_request(data, 0, *head_limits)
    except Exception:  # incomplete, malformed or over a limit: the reference path decides  # noqa: BLE001
        return None
    if head["path"] not in PATHS or head["minor_version"] != 1 or head["method"] != b"POST":
        return None
    length, headers = None, []
    for name, value in head["headers"]:
        lower = name.lower()
        if lower in REFUSED or b"_" in name:
            return None
        if lower == b"connection" and value.lower() != b"keep-alive":  # what HTTP/1.1 means anyway
            return None
        if lower == b"content-length":
            if length is not None or not value.isdigit() or len(value) > 18:
                return None
            length = int(value)
        headers.append((name.decode("latin-1"), value.decode("latin-1")))
    start = head["consumed"]
    if length is None or length > max_body or len(data) != start + length:
        return None
    return Plain(head["path"].decode("ascii"), headers, data[start:])


def environ_for(request: Plain, conn, cfg) -> dict:
    """The WSGI environ gunicorn's wsgi.create builds for this request."""
    environ = base_environ(cfg)  # gunicorn's wsgi.* keys and SERVER_SOFTWARE
    environ.update({
        "wsgi.multithread": True, "wsgi.input": io.BytesIO(request.body), "gunicorn.socket": conn.sock,
        "REQUEST_METHOD": "POST", "RAW_URI": request.path, "PATH_INFO": request.path, "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "SCRIPT_NAME": "",
    })
    repeated: dict[str, list[str]] = {}
    for name, value in request.headers:
        upper = name.upper()
        if upper == "CONTENT-TYPE":
            environ["CONTENT_TYPE"] = value
        elif upper == "CONTENT-LENGTH":
            environ["CONTENT_LENGTH"] = value
        else:
            key = "HTTP_" + upper.replace("-", "_")
            if key in environ:
                repeated.setdefault(key, [environ[key]]).append(value)
            else:
                environ[key] = value
    for key, values in repeated.items():
        environ[key] = ",".join(values)
    client, server = conn.client, conn.server
    environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = client[0], str(client[1])
    environ["SERVER_NAME"], environ["SERVER_PORT"] = server[0], str(server[1])
    return environ


_DIRECT = {"content-type": 0, "authorization": 1, "x-request-id": 2}


def direct_fields(request: Plain) -> tuple[str, str, str | None] | None:
    """(Content-Type, Authorization, X-Request-Id) as environ_for gives them to the app ("" for a
    missing one, None for no X-Request-Id), or None when one of them repeats: the environ joins or
    replaces repeated fields, so such a request goes through environ_for."""
    found: list[str | None] = [None, None, None]
    for name, value in request.headers:
        at = _DIRECT.get(name.lower())
        if at is not None:
            if found[at] is not None:
                return None
            found[at] = value
    return found[0] or "", found[1] or "", found[2]


class Answer:
    """The app's response, as gunicorn's start_response and Response.process_headers take it."""

    __slots__ = ("status", "headers", "length")

    def __init__(self):
        self.status, self.headers, self.length = "500 Internal Server Error", [], None

    def start_response(self, status, headers, exc_info=None):
        self.status, self.headers = status, []
        for name, value in headers:
            if not isinstance(name, str) or not TOKEN_RE.fullmatch(name):
                raise TypeError(f"{name!r} is not a response header name")
            if not isinstance(value, str) or not HEADER_VALUE_RE.fullmatch(value):
                raise TypeError(f"the value of {name!r} is not a response header value")
            value, lower = value.strip(" \t"), name.lower()
            if lower == "content-length":
                self.length = int(value)
            if lower not in hop_headers:  # gunicorn's own list: its Server and Date replace the app's
                self.headers.append((name, value))
        return self._refuse_write

    @staticmethod
    def _refuse_write(data):
        raise RuntimeError("the decision endpoints return their body; they do not write it")


http_date = PerSecond(lambda now: formatdate(now, localtime=False, usegmt=True))  # the Date field's value


def response_bytes(answer: Answer, body: bytes, keep_alive: bool) -> bytes:
    """What gunicorn's Response writes: status line, Server, Date, Connection, the app's fields, body."""
    if answer.length is None:  # gunicorn would chunk it; the same bytes, framed by length
        answer.headers.append(("Content-Length", str(len(body))))
    elif answer.length != len(body):
        raise ValueError("the app's Content-Length does not match its body")
    lines = [f"HTTP/1.1 {answer.status}\r\nServer: {SERVER}\r\nDate: {http_date()}\r\n"
             f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n"]
    lines.extend(f"{name}: {value}\r\n" for name, value in answer.headers)
    lines.append("\r\n")
    return "".join(lines).encode("latin-1") + body


def failed() -> bytes:
    """The answer when the app raised or answered what HTTP cannot carry: gunicorn's 500, as JSON."""
    from authz_service.serving import http_errors  # in the worker (PATHS says why)

    return http_errors.response(500, "Internal Server Error")
