"""The one reader of what a caller sends: JSON bodies (the fast path included) and the text of
paths and queries. Every refusal in the contract's shape, never a 500 (docs/api.md conventions;
docs/decisions/016-hostile-input.md).

A path or query that is not UTF-8 once percent-decoded is 400 `malformed` (werkzeug would
quietly turn it into U+FFFD, and a user name could be stored so).

400 `malformed_json`: not UTF-8, not JSON (NaN and Infinity are not JSON, RFC 8259) or nested
deeper than MAX_DEPTH (found from the brackets outside strings: no recursion, so 100k-deep
input costs a few scans, not the stack). 422 `invalid`: well-formed JSON holding text no store can
keep (NUL, a lone surrogate, in a value or a key) or a number no field can hold (more than
MAX_DIGITS digits, or a float that is not finite).
"""

import json
import math
import re
from urllib.parse import unquote_to_bytes

from authz_service.api.errors import ApiError
from authz_service.log import values

MAX_DEPTH = 32
MAX_DIGITS = 64
_ESCAPES = re.compile(r"\\.", re.DOTALL)  # with these gone, every quote opens or closes a string
_PAIRS, _NOT_BRACKETS = bytes.maketrans(b"[{]}", b"(())"), bytes(set(range(256)) - set(b"[]{}"))
# Text decoded from UTF-8 holds no lone surrogate, and JSON refuses a raw NUL (a control
# character) anywhere: in a parsed body, either can only come from one of these escapes. A body
# without any is not walked (the walk cost ~30 µs a request, 1 ms for 100 evaluations).
_ESCAPED_UNSTORABLE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def malformed(reason: str) -> ApiError:
    """The 400 for a body that is not JSON this service reads."""
    return ApiError(400, "malformed_json", f"the body is not valid JSON: {reason}")


def loads(raw: bytes | str) -> object:
    """The parsed body, or the ApiError that answers it."""
    was_utf8 = isinstance(raw, bytes)
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise malformed("it is not UTF-8") from None
    if too_deep(raw):
        raise malformed(f"nested deeper than {MAX_DEPTH} levels")
    try:
        value = _decoder.decode(raw)
    except (ValueError, RecursionError):
        raise malformed("syntax error") from None
    if not was_utf8 or _ESCAPED_UNSTORABLE.search(raw):
        refuse_unstorable(value)
    return value


def too_deep(text: str) -> bool:
    """True when arrays and objects nest deeper than MAX_DEPTH (brackets in strings not counted).

    No loop over characters (a 100-item batch has ~12,000): escapes dropped, the text split at
    its quotes (every other piece is inside a string), the brackets alone kept as "(" and ")",
    then passes that each remove every innermost pair; well-formed JSON nests as deep as the
    passes that empty it. Brackets left open count as depth (JSON that does not parse is 400
    either way)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    if "\\" in text:
        text = _ESCAPES.sub("", text)
    outside = "".join(text.split('"')[0::2]).encode("utf-8", "surrogatepass")
    brackets = outside.translate(_PAIRS, _NOT_BRACKETS)
    for _ in range(MAX_DEPTH):
        inner = brackets.replace(b"()", b"")
        if inner == brackets:
            return brackets.count(b"(") > MAX_DEPTH
        brackets = inner
    return b"()" in brackets or brackets.count(b"(") > MAX_DEPTH


def unstorable(text: str) -> bool:
    """True for text holding NUL or a lone surrogate, which no store can keep."""
    return not values.faithful(text)  # the log's own test of what a store keeps (R7.4)


def refuse_unstorable(value) -> None:
    """The 422 when any text in a parsed value (keys included) is unstorable; iterative."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if unstorable(item):
                raise ApiError(422, "invalid", "text may not contain NUL (U+0000) or a lone "
                               "surrogate (U+D800-U+DFFF)")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ApiError(422, "invalid", f"a number has more than {MAX_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ApiError(422, "invalid", "a number is out of range")
    return value


def _constant(name: str):
    raise malformed(f"{name} is not JSON")


# Made once: json.loads given these makes a new decoder, and its scanner, at every call (~3 µs a
# request). What it reads and refuses is json.loads's (a leading BOM too: not JSON's whitespace).
_decoder = json.JSONDecoder(parse_int=_integer, parse_float=_float, parse_constant=_constant)


def refuse_bad_url(environ: dict) -> None:
    """The 400 for a path or query string that is not UTF-8 once percent-decoded."""
    try:
        environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        unquote_to_bytes(environ.get("QUERY_STRING", "").replace("+", " ")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise ApiError(400, "malformed", "the path or query is not UTF-8") from None
