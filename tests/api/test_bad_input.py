"""Bad input over HTTP: every refusal has the contract's status and error shape (docs/api.md conventions).

Mostly POST /v1/authorize, with a few against /v1/authorize/batch, /v1/authorize/accounts and the
directory's PUT /v1/partners/{id}/users/{email}. Where a write is refused, nothing changes.
"""

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authz_service import store
from authz_service.store import directory
from authz_service.store.models import Decision
from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.reads import decision_count, get_user, synced_store

OK_BODY = {"user": "ada@acme.example", "action": "port.view", "account": "initech"}
ONE_MIB = 1_048_576

def post(client, path: str, body, key: str | None = None, **kwargs):
    """POST a JSON body with the bootstrap key (or `key`)."""
    headers = bearer(key) if key else bearer()
    return client.post(path, json=body, headers=headers, **kwargs)


def post_raw(client, path: str, data, headers: dict | None = None):
    """POST raw bytes as application/json."""
    return client.post(path, data=data, content_type="application/json",
                       headers=bearer() if headers is None else headers)

def user_count() -> int:
    with store.connection():
        return directory.count("user")

# --- 400: malformed -------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/v1/authorize", "/v1/authorize/batch", "/v1/authorize/accounts"])
@pytest.mark.parametrize("data", [b"{", b'{"user": "ada@acme.example",}', b"not json", b"\xff\xfe{}"])
def test_malformed_json_is_400_malformed_json(client, path, data):
    """docs/api.md conventions: a body that is not JSON is 400 with code malformed_json."""
    before = decision_count()
    assert_error(post_raw(client, path, data), 400, "malformed_json")
    assert decision_count() == before


def test_malformed_json_on_a_directory_put_is_400_and_creates_nothing(client):
    """docs/api.md conventions: bad JSON is 400 malformed_json; the refused PUT creates no user."""
    before = user_count()
    response = client.put("/v1/partners/acme/users/new@acme.example", data=b'{"group": ',
                          content_type="application/json", headers=bearer())
    assert_error(response, 400, "malformed_json")
    assert user_count() == before and get_user("new@acme.example") is None


@pytest.mark.parametrize("body", [[OK_BODY], [], "ada@acme.example", 42, 4.5, True],
                         ids=["array", "empty-array", "string", "integer", "float", "boolean"])
def test_json_body_that_is_not_an_object_is_400(client, body):
    """docs/api.md conventions: a JSON body that is not an object (array, string, number) is 400."""
    before = decision_count()
    assert_error(post(client, "/v1/authorize", body), 400, "malformed")
    assert decision_count() == before


@pytest.mark.parametrize("path", ["/v1/authorize/batch", "/v1/authorize/accounts"])
def test_json_array_body_is_400_on_batch_and_accounts(client, path):
    """docs/api.md conventions: a JSON array where an object is expected is 400."""
    assert_error(post(client, path, [{"user": "ada@acme.example"}]), 400, "malformed")


@pytest.mark.parametrize(("field", "value"), [
    ("user", 42),
    ("user", ["ada@acme.example"]),
    ("user", {"email": "ada@acme.example"}),
    ("action", 7),
    ("action", None),
    ("account", 1),
    ("account", None),
    ("resource", "port-1"),
    ("resource", ["port", "1"]),
    ("resource", {"type": 1, "id": "p1"}),
    ("session", 5),
], ids=lambda v: repr(v)[:20])
def test_wrong_type_in_authorize_is_400(client, field, value):
    """docs/api.md conventions: a field of the wrong type (user as number, resource as string) is 400."""
    before = decision_count()
    error = assert_error(post(client, "/v1/authorize", {**OK_BODY, field: value}), 400, "malformed")
    assert field in error["details"]["fields"]
    assert decision_count() == before


@pytest.mark.parametrize(("body", "field"), [
    ({"user": "ada@acme.example", "checks": {"action": "port.view", "account": "initech"}}, "checks"),
    ({"user": "ada@acme.example", "checks": "port.view"}, "checks"),
    ({"user": 1, "checks": [{"action": "port.view", "account": "initech"}]}, "user"),
    ({"user": "ada@acme.example", "checks": [["port.view", "initech"]]}, "checks"),
], ids=["checks-object", "checks-string", "user-number", "check-array"])
def test_wrong_type_in_batch_is_400(client, body, field):
    """docs/api.md conventions: checks as an object (or a string), a user as a number: 400."""
    before = decision_count()
    error = assert_error(post(client, "/v1/authorize/batch", body), 400, "malformed")
    assert field in error["details"]["fields"]
    assert decision_count() == before


@pytest.mark.parametrize("limit", ["ten", True, [5], {"n": 5}])
def test_wrong_type_of_limit_is_400(client, limit):
    """docs/api.md conventions: a limit that is not an integer is 400 (wrong type), not 422."""
    body = {"user": "ada@acme.example", "action": "port.view", "limit": limit}
    assert_error(post(client, "/v1/authorize/accounts", body), 400, "malformed")


def test_unknown_field_in_authorize_is_400(client):
    """docs/api.md conventions: an unknown field is 400, and nothing is decided."""
    before = decision_count()
    error = assert_error(post(client, "/v1/authorize", {**OK_BODY, "acount": "umbrella"}),
                         400, "malformed")
    assert "acount" in error["details"]["fields"]
    assert decision_count() == before


def test_unknown_field_inside_resource_is_400(client):
    """docs/api.md conventions: an unknown field in a nested object (resource) is 400 too."""
    body = {**OK_BODY, "resource": {"type": "port", "id": "p1", "owner": "x"}}
    assert_error(post(client, "/v1/authorize", body), 400, "malformed")


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/authorize/batch", {"user": "ada@acme.example", "checks": [
        {"action": "port.view", "account": "initech", "why": "x"}]}),
    ("/v1/authorize/batch", {"user": "ada@acme.example", "extra": 1, "checks": [
        {"action": "port.view", "account": "initech"}]}),
    ("/v1/authorize/accounts", {"user": "ada@acme.example", "action": "port.view", "page": 2}),
], ids=["batch-check", "batch-top", "accounts"])
def test_unknown_field_in_batch_and_accounts_is_400(client, path, body):
    """docs/api.md conventions: an unknown field is 400 on the batch and accounts calls too."""
    before = decision_count()
    assert_error(post(client, path, body), 400, "malformed")
    assert decision_count() == before


def test_unknown_field_in_a_user_put_is_400_and_creates_nothing(client):
    """docs/api.md conventions: unknown field is 400; the refused directory PUT changes nothing."""
    before = user_count()
    response = client.put("/v1/partners/acme/users/new@acme.example",
                          json={"group": "regular", "role": "admin"}, headers=bearer())
    assert_error(response, 400, "malformed")
    assert user_count() == before and get_user("new@acme.example") is None


@pytest.mark.parametrize("missing", ["user", "action", "account"])
def test_missing_required_field_in_authorize_is_400(client, missing):
    """docs/api.md conventions: a missing required field (user, action; account without a session) is 400."""
    body = {k: v for k, v in OK_BODY.items() if k != missing}
    before = decision_count()
    error = assert_error(post(client, "/v1/authorize", body), 400, "malformed")
    assert missing in error["details"]["fields"]
    assert decision_count() == before


@pytest.mark.parametrize(("path", "body", "missing"), [
    ("/v1/authorize/batch", {"user": "ada@acme.example"}, "checks"),
    ("/v1/authorize/batch", {"checks": [{"action": "port.view", "account": "initech"}]}, "user"),
    ("/v1/authorize/batch", {"user": "ada@acme.example", "checks": [{"action": "port.view"}]},
     "checks"),
    ("/v1/authorize/accounts", {"user": "ada@acme.example"}, "action"),
], ids=["batch-checks", "batch-user", "batch-check-account", "accounts-action"])
def test_missing_required_field_in_batch_and_accounts_is_400(client, path, body, missing):
    """docs/api.md conventions: a missing required field is 400 on batch and accounts."""
    error = assert_error(post(client, path, body), 400, "malformed")
    assert missing in error["details"]["fields"]


def test_missing_group_on_a_user_put_is_400_and_changes_nothing(client):
    """docs/api.md conventions: missing field is 400; rita's group is unchanged."""
    response = client.put("/v1/partners/acme/users/rita@acme.example", json={}, headers=bearer())
    assert_error(response, 400, "malformed")
    assert get_user("rita@acme.example")["group"] == "read_only"


def test_empty_object_body_is_400(client):
    """docs/api.md conventions: {} lacks every required field: 400, naming them."""
    error = assert_error(post(client, "/v1/authorize", {}), 400, "malformed")
    assert {"user", "action"} <= set(error["details"]["fields"])


# --- 401 / 403: keys and scopes ---------------------------------------------------------------

ENDPOINTS = [
    ("post", "/v1/authorize", OK_BODY),
    ("post", "/v1/authorize/batch", {"user": "ada@acme.example",
                                     "checks": [{"action": "port.view", "account": "initech"}]}),
    ("post", "/v1/authorize/accounts", {"user": "ada@acme.example", "action": "port.view"}),
    ("put", "/v1/partners/acme/users/new@acme.example", {"group": "regular"}),
]
ENDPOINT_IDS = ["authorize", "batch", "accounts", "put-user"]


def call(client, method, path, body, headers):
    return getattr(client, method)(path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_missing_authorization_header_is_401(client, method, path, body):
    """docs/api.md conventions: a missing key is 401; nothing is decided or created."""
    decisions, users = decision_count(), user_count()
    assert_error(call(client, method, path, body, {}), 401, "unauthorized")
    assert decision_count() == decisions and user_count() == users


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_unknown_key_is_401(client, keys, method, path, body):
    """docs/api.md conventions: an unknown key is 401; nothing is decided or created."""
    decisions, users = decision_count(), user_count()
    for key in ("no-such-key", keys["decide"] + "x", keys["all"][:-1]):
        assert_error(call(client, method, path, body, bearer(key)), 401, "unauthorized")
    assert decision_count() == decisions and user_count() == users
    assert get_user("new@acme.example") is None


@pytest.mark.parametrize("header", [
    "Basic {key}", "Token {key}", "{key}", "Bearer", "Bearer ", "Bearer    ", "", "Bearer: {key}",
], ids=["basic", "token", "bare-key", "bearer-alone", "bearer-space", "bearer-spaces", "empty",
        "bearer-colon"])
def test_non_bearer_scheme_is_401(client, keys, header):
    """docs/api.md conventions: Authorization must be `Bearer <key>`; any other scheme (even with a
    valid key) is 401."""
    before = decision_count()
    response = client.post("/v1/authorize", json=OK_BODY,
                           headers={"Authorization": header.format(key=keys["all"])})
    assert_error(response, 401, "unauthorized")
    assert decision_count() == before


def test_missing_key_is_401_before_the_body_is_read(client):
    """docs/api.md conventions: without a key the answer is 401, even for a malformed body."""
    response = client.post("/v1/authorize", data=b"{", content_type="application/json")
    assert_error(response, 401, "unauthorized")


def test_decide_key_on_a_directory_put_is_403_and_changes_nothing(client, keys):
    """docs/api.md conventions: a key without the needed scope (decide-only on a manage call) is 403;
    no user is created and no group changes."""
    before = user_count()
    new = client.put("/v1/partners/acme/users/new@acme.example", json={"group": "admin"},
                     headers=bearer(keys["decide"]))
    error = assert_error(new, 403, "missing_scope")
    assert error["details"].get("scope") == "manage"
    existing = client.put("/v1/partners/acme/users/rita@acme.example", json={"group": "admin"},
                          headers=bearer(keys["decide"]))
    assert_error(existing, 403, "missing_scope")
    assert user_count() == before
    assert get_user("new@acme.example") is None
    assert get_user("rita@acme.example")["group"] == "read_only"


@pytest.mark.parametrize("scope", ["manage", "audit"])
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS[:3], ids=ENDPOINT_IDS[:3])
def test_key_without_decide_on_authorize_is_403(client, keys, scope, method, path, body):
    """docs/api.md conventions: a manage-only (or audit-only) key on a decision call is 403; nothing is
    decided."""
    before = decision_count()
    error = assert_error(call(client, method, path, body, bearer(keys[scope])), 403, "missing_scope")
    assert error["details"].get("scope") == "decide"
    assert decision_count() == before


def test_single_scope_keys_work_where_their_scope_is_needed(client, keys):
    """docs/api.md conventions: the decide key decides, the manage key manages (the 403s above are
    about scope, not about the key)."""
    assert post(client, "/v1/authorize", OK_BODY, key=keys["decide"]).status_code == 200
    response = client.put("/v1/partners/acme/users/new@acme.example", json={"group": "regular"},
                          headers=bearer(keys["manage"]))
    assert response.status_code == 201


# --- unknown action ---------------------------------------------------------------------------

@pytest.mark.parametrize("action", [
    "port.fly", "PORT.VIEW", "Port.view", "port.view ", " port.view", "port", "port.", ".view",
    "", "*", "port.*", "*.view", "port.view.extra", "customer.manage", "login",
])
def test_unknown_action_is_400_unknown_action(client, action):
    """docs/api.md conventions / R3: any string other than a known resource.verb is 400 unknown_action,
    never a silent allow, and nothing is recorded."""
    before = decision_count()
    error = assert_error(post(client, "/v1/authorize", {**OK_BODY, "action": action}),
                         400, "unknown_action")
    assert error["details"].get("action") == action
    assert decision_count() == before


def test_unknown_action_in_a_batch_is_400_and_decides_nothing(client):
    """docs/api.md conventions: one unknown action in a batch is 400 unknown_action; none of the
    batch's checks is recorded."""
    before = decision_count()
    checks = [{"action": "port.view", "account": "initech"},
              {"action": "port.teleport", "account": "initech"}]
    response = post(client, "/v1/authorize/batch", {"user": "ada@acme.example", "checks": checks})
    assert_error(response, 400, "unknown_action")
    assert decision_count() == before


def test_unknown_action_in_accounts_is_400(client):
    """docs/api.md conventions: /v1/authorize/accounts with an unknown action is 400 unknown_action."""
    response = post(client, "/v1/authorize/accounts", {"user": "ada@acme.example", "action": "x.y"})
    assert_error(response, 400, "unknown_action")


# --- 422: well-formed but invalid --------------------------------------------------------------

def checks(n: int) -> list[dict]:
    return [{"action": "port.view", "account": "initech"}] * n


@pytest.mark.parametrize("n", [0, 1001])
def test_batch_of_0_or_1001_checks_is_422(client, n):
    """docs/api.md conventions: a batch of 0 or more than 1000 checks is 422; nothing is decided."""
    before = decision_count()
    response = post(client, "/v1/authorize/batch", {"user": "ada@acme.example", "checks": checks(n)})
    error = assert_error(response, 422, "invalid")
    assert "checks" in error["details"]["fields"]
    assert decision_count() == before


@pytest.mark.parametrize("n", [1, 1000])
def test_batch_of_1_or_1000_checks_is_answered(client, n):
    """docs/api.md Decisions: 1-1000 checks are answered, one result each, in order."""
    response = post(client, "/v1/authorize/batch", {"user": "ada@acme.example", "checks": checks(n)})
    assert response.status_code == 200, response.json
    assert len(response.json["results"]) == n
    assert all(r["allowed"] for r in response.json["results"])


@pytest.mark.parametrize("limit", [0, 501, -1, 10**20])
def test_accounts_limit_out_of_range_is_422(client, limit):
    """docs/api.md conventions: a limit out of range (1-500) is 422."""
    body = {"user": "ada@acme.example", "action": "port.view", "limit": limit}
    error = assert_error(post(client, "/v1/authorize/accounts", body), 422, "invalid")
    assert "limit" in error["details"]["fields"]


@pytest.mark.parametrize("limit", [1, 500])
def test_accounts_limit_at_the_bounds_is_answered(client, limit):
    """docs/api.md conventions: limits 1 and 500 are in range."""
    body = {"user": "ada@acme.example", "action": "port.view", "limit": limit}
    response = post(client, "/v1/authorize/accounts", body)
    assert response.status_code == 200, response.json
    assert len(response.json["items"]) <= limit


def test_accounts_cursor_that_the_service_did_not_give_is_422(client):
    """docs/api.md conventions: an invalid cursor is a 422 in the error shape, not a 500."""
    body = {"user": "ada@acme.example", "action": "port.view", "cursor": "not-a-cursor"}
    assert_error(post(client, "/v1/authorize/accounts", body), 422)


@pytest.mark.parametrize("group", ["wizard", "Admin", "ADMIN", "", "read-only", "owner"])
def test_unknown_group_on_a_new_user_put_is_422_and_creates_nothing(client, group):
    """docs/api.md conventions / R2.1: an unknown group is 422; no user is created."""
    before = user_count()
    response = client.put("/v1/partners/acme/users/new@acme.example", json={"group": group},
                          headers=bearer())
    error = assert_error(response, 422, "invalid")
    assert "group" in error["details"]["fields"]
    assert user_count() == before and get_user("new@acme.example") is None


@pytest.mark.parametrize(("path", "email", "group"), [
    ("/v1/partners/acme/users/rita@acme.example", "rita@acme.example", "read_only"),
    ("/v1/customers/initech/users/ivy@initech.example", "ivy@initech.example", "regular"),
])
def test_unknown_group_on_an_existing_user_put_is_422_and_keeps_the_group(client, path, email, group):
    """docs/api.md conventions / R2.1: an unknown group is 422; the user's group is unchanged."""
    response = client.put(path, json={"group": "superuser"}, headers=bearer())
    assert_error(response, 422, "invalid")
    assert get_user(email)["group"] == group


@pytest.mark.parametrize("email", [
    "not-an-email", "@acme.example", "new@", "new%20person@acme.example", "a" * 250 + "@x.example",
], ids=["no-at", "no-local", "no-domain", "space", "too-long"])
def test_invalid_email_in_the_path_is_422_and_creates_nothing(client, email):
    """docs/api.md conventions / R2.2: a user name must be an email; an impossible one is 422."""
    before = user_count()
    response = client.put(f"/v1/partners/acme/users/{email}", json={"group": "regular"},
                          headers=bearer())
    assert_error(response, 422, "invalid_email")
    assert user_count() == before


# --- unknown user or account in a body: a denial, not an error --------------------------------

def assert_denial(result: dict) -> None:
    assert result["allowed"] is False
    assert result["group"] is None
    assert isinstance(result["decision_id"], str) and result["decision_id"]
    assert isinstance(result["reason"], str) and result["reason"]
    assert isinstance(result["rule"], str) and result["rule"]


@pytest.mark.parametrize(("user", "account"), [
    ("nobody@acme.example", "initech"),
    ("ada@acme.example", "no-such-account"),
    ("nobody@nowhere.example", "no-such-account"),
    ("not an email at all", "initech"),
    ("", "initech"),
    ("ada@acme.example", ""),
])
def test_unknown_user_or_account_in_authorize_is_a_denial(client, user, account):
    """docs/api.md Decisions / conventions: an unknown user or account inside an authorize body is a
    recorded denial (200, allowed false, group null), not an error."""
    before = decision_count()
    response = post(client, "/v1/authorize", {"user": user, "action": "port.view",
                                               "account": account})
    assert response.status_code == 200, response.json
    assert_denial(response.json)
    assert decision_count() == before + 1


def test_unknown_user_or_account_in_a_batch_are_denials(client):
    """docs/api.md Decisions: unknown accounts in a batch are denials in place, not errors."""
    body = {"user": "ada@acme.example", "checks": [
        {"action": "port.view", "account": "nope"},
        {"action": "port.view", "account": "initech"},
    ]}
    response = post(client, "/v1/authorize/batch", body)
    assert response.status_code == 200, response.json
    denied, allowed = response.json["results"]
    assert_denial(denied)
    assert allowed["allowed"] is True and allowed["group"] == "admin"
    unknown_user = post(client, "/v1/authorize/batch", {**body, "user": "ghost@acme.example"})
    assert unknown_user.status_code == 200
    for result in unknown_user.json["results"]:
        assert_denial(result)


def test_unknown_user_in_accounts_is_an_empty_list(client):
    """docs/api.md Decisions: an unknown user may act on no account: an empty list, not an error."""
    response = post(client, "/v1/authorize/accounts", {"user": "ghost@acme.example",
                                                       "action": "port.view"})
    assert response.status_code == 200
    assert response.json == {"items": [], "next_cursor": None}


# --- 413: too large ---------------------------------------------------------------------------

def big_body() -> bytes:
    body = json.dumps({**OK_BODY, "resource": {"type": "port", "id": "x" * (ONE_MIB + 10)}})
    assert len(body) > ONE_MIB
    return body.encode()


def test_body_over_one_mib_is_413(client):
    """docs/api.md conventions / Settings.max_body_bytes: a body over 1 MiB is 413 in the error shape,
    and nothing is decided."""
    before = decision_count()
    assert_error(post_raw(client, "/v1/authorize", big_body()), 413, "request_too_large")
    assert decision_count() == before


def test_chunked_body_over_one_mib_is_413(client):
    """docs/api.md conventions: a body over 1 MiB sent without Content-Length (chunked, as gunicorn
    passes it on) is 413 too, not cut short at 1 MiB and answered 400 malformed_json."""
    before = decision_count()
    response = client.post("/v1/authorize", input_stream=io.BytesIO(big_body()),
                           headers={**bearer(), "Content-Type": "application/json",
                                    "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert_error(response, 413, "request_too_large")
    assert decision_count() == before


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_of_exactly_one_mib_is_read_and_one_byte_more_is_413(client, chunked):
    """docs/api.md conventions: the limit is 1 MiB inclusive, with or without Content-Length."""
    exact = json.dumps(OK_BODY).encode().ljust(ONE_MIB, b" ")
    for data, status in ((exact, 200), (exact + b" ", 413)):
        if chunked:
            response = client.post("/v1/authorize", input_stream=io.BytesIO(data),
                                   headers={**bearer(), "Content-Type": "application/json",
                                            "Transfer-Encoding": "chunked"},
                                   environ_overrides={"wsgi.input_terminated": True})
        else:
            response = post_raw(client, "/v1/authorize", data)
        assert response.status_code == status, response.get_data(as_text=True)
        if status == 413:
            assert_error(response, 413, "request_too_large")


def test_chunked_body_under_the_limit_is_read(client):
    """docs/api.md conventions: a small body without Content-Length (chunked) is read in full."""
    response = client.post("/v1/authorize", input_stream=io.BytesIO(json.dumps(OK_BODY).encode()),
                           headers={**bearer(), "Content-Type": "application/json",
                                    "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["allowed"] is True


# --- property: whatever JSON comes in, never a 500 ------------------------------------------

EMAILS = ["ada@acme.example", "Rita@Acme.Example", "sam@acme.example", "ian@initech.example",
          "gina@globex.example", "ghost@acme.example"]
ACCOUNTS = ["acme", "initech", "umbrella", "hooli", "globex", "soylent", "nope"]
ACTIONS = ["port.view", "port.create", "billing.view", "customer.list", "grant.manage",
           "user.manage", "activity.view", "port.fly"]

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text())
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children,
                                                                      max_size=4),
    max_leaves=12,
)
resources = st.fixed_dictionaries(
    {"type": st.text(max_size=70) | json_values, "id": st.text(max_size=10) | json_values},
    optional={"extra": json_values},
) | json_values
shaped = st.fixed_dictionaries({}, optional={
    "user": st.sampled_from(EMAILS) | st.text() | json_values,
    "action": st.sampled_from(ACTIONS) | st.text() | json_values,
    "account": st.sampled_from(ACCOUNTS) | st.text() | json_values,
    "resource": resources,
    "session": st.text() | json_values,
})
bodies = json_values | shaped | st.builds(lambda d, extra: {**d, **extra}, shaped,
                                          st.dictionaries(st.text(max_size=8), json_values,
                                                          max_size=2))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_any_json_body_never_yields_a_500(client, body):
    """docs/api.md conventions: "Never 500 for anything a caller can send": any JSON value posted to
    /v1/authorize with a valid key is a 200 decision or an error in the contract's shape."""
    response = post(client, "/v1/authorize", body)
    assert response.status_code < 500, (body, response.get_data(as_text=True))
    if response.status_code == 200:
        result = response.get_json()
        assert {"allowed", "decision_id", "group", "reason", "rule"} <= set(result)
        assert isinstance(result["allowed"], bool)
        assert result["group"] is None or isinstance(result["group"], str)
    else:
        assert response.status_code in (400, 422), (body, response.get_data(as_text=True))
        assert_error(response, response.status_code)


def test_an_unknown_query_parameter_is_malformed(client):
    """docs/api.md: an unknown field is 400, in a query string as in a body; nothing is recorded."""

    with synced_store():
        before = Decision.select().count()
    for path in ("/v1/decisions?colour=blue", "/v1/partners/acme/customers?user=ada@acme.example&colour=blue",
                 "/v1/customers/initech/links?user=ada@acme.example&page=2"):
        response = client.get(path, headers=bearer())
        assert response.status_code == 400, (path, response.json)
        assert set(response.json) == {"error"}
    with synced_store():
        assert Decision.select().count() == before


@pytest.mark.parametrize("field, value, limit", [
    ("user", "a" * 255, 254), ("user", "İ" * 200, 254),  # "İ" lowercases to two characters
    ("account", "x" * 65, 64), ("session", "s" * 65, 64)])
def test_a_value_longer_than_the_log_can_record_is_422_and_decides_nothing(client, field, value, limit):
    """R7.1: every decision is recorded, so a user, account or session longer than the log's
    columns (and than any stored one) is 422 before deciding; nothing is recorded. On
    PostgreSQL such an entry used to fail the log's commit, and with it the other entries
    of its batch."""
    before = decision_count()
    error = assert_error(post(client, "/v1/authorize", {**OK_BODY, field: value}), 422, "invalid")
    assert error["details"] == {"field": field, "limit": limit}
    assert decision_count() == before


def test_a_value_at_the_log_s_limit_is_decided(client):
    """The longest recordable user and account are an ordinary denial (unknown ones), recorded."""
    before = decision_count()
    response = post(client, "/v1/authorize", {**OK_BODY, "user": "a" * 254, "account": "x" * 64})
    assert response.status_code == 200 and response.get_json()["allowed"] is False
    assert decision_count() == before + 1


def test_one_overlong_account_in_a_batch_is_422_and_decides_nothing(client):
    """R7.1: one check of a batch that could not be recorded refuses the whole batch."""
    before = decision_count()
    checks = [{"action": "port.view", "account": "initech"}, {"action": "port.view", "account": "x" * 65}]
    response = post(client, "/v1/authorize/batch", {"user": "ada@acme.example", "checks": checks})
    assert_error(response, 422, "invalid")
    assert decision_count() == before


def test_an_overlong_user_in_accounts_is_422(client):
    """The same limit on /v1/authorize/accounts (no cache entry is made for such a user either)."""
    response = post(client, "/v1/authorize/accounts", {"user": "a" * 255, "action": "port.view"})
    assert assert_error(response, 422, "invalid")["details"]["field"] == "user"
