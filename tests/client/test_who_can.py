"""AuthzClient.who_can (R10.3): every page walked, refusals raised, and fails closed: an outage or
an answer that is not a page gives [], never a part of the list."""

from urllib.parse import parse_qs, urlsplit

import pytest
from authz_client import AuthzClient, AuthzError

from tests.support.stub import DROP, Stub

ADA = "ada@acme.example"
PATH = "/v1/customers/ini%2Ftech/access"
FIRST = [{"email": "ada@acme.example", "group": "admin", "via": "partner_admin", "expires_at": None}]
SECOND = [{"email": "ian@initech.example", "group": "admin", "via": "home", "expires_at": None}]
MORE = {"items": FIRST, "next_cursor": "c1"}


def query_of(target: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}


class TwoPages(dict):
    """The Stub's answers: page one, then page two (the last) when asked with page one's cursor."""

    def __init__(self, stub: Stub):
        super().__init__()
        self.stub = stub

    def get(self, path, default=None):
        if path != PATH:
            return default
        last = query_of(self.stub.targets[-1]).get("cursor") == "c1"
        return {"items": SECOND, "next_cursor": None} if last else MORE


def client_of(stub: Stub) -> AuthzClient:
    return AuthzClient(stub.url, "key", timeout=5, retries=1, backoff=0.001)


def test_walks_every_page_with_the_cursor_it_was_given():
    with Stub() as stub:
        stub.answers = TwoPages(stub)
        assert client_of(stub).who_can("ini/tech", ADA, action="port.create", page_size=1) == FIRST + SECOND
        assert [(m, p) for m, p, _ in stub.requests] == [("GET", PATH)] * 2
        assert [query_of(t) for t in stub.targets] == [
            {"user": ADA, "action": "port.create", "limit": "1"},
            {"user": ADA, "action": "port.create", "limit": "1", "cursor": "c1"}]


def test_without_an_action_none_is_sent():
    with Stub(answers={PATH: {"items": FIRST, "next_cursor": None}}) as stub:
        assert client_of(stub).who_can("ini/tech", ADA) == FIRST
        assert "action" not in query_of(stub.targets[0])


@pytest.mark.parametrize("status", [503, 500, DROP])
def test_an_outage_is_an_empty_list(status):
    with Stub(lambda *_: status) as stub:
        assert client_of(stub).who_can("ini/tech", ADA) == []


def test_a_failure_on_a_later_page_gives_nothing_not_a_part():
    with Stub(lambda m, p, n: 200 if n == 1 else 503, answers={PATH: MORE}) as stub:
        assert client_of(stub).who_can("ini/tech", ADA) == []


@pytest.mark.parametrize("body", [{"items": "x", "next_cursor": None}, {"next_cursor": None},
                                  {"items": [{"group": "admin"}], "next_cursor": None}, [1, 2], "page"])
def test_an_answer_that_is_not_a_page_is_an_empty_list(body):
    with Stub(answers={PATH: body}) as stub:
        assert client_of(stub).who_can("ini/tech", ADA) == []


def test_a_refusal_is_raised():
    with Stub(lambda *_: 403) as stub, pytest.raises(AuthzError):
        client_of(stub).who_can("ini/tech", ADA)
