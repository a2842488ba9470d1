"""A query parameter given twice (`?limit=1&limit=500`, `?user=a&user=b`) is refused with 400
`malformed` naming it, on every operation of /openapi.json, rather than its first value taken
silently (decision 037: a proxy or filter in front that reads the last value must not see
another request than the service answers). Refused before anything is decided or recorded.
"""

import re

from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.reads import decision_count

SAMPLE = {"user": "ada@acme.example", "limit": "10", "after": "0", "entry_id": "1", "size": "1", "from": "0",
          "to": "0", "status": "pending", "since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"}


def query_operations(client) -> list[tuple[str, str, list[str]]]:
    """(method, path with sample ids, query parameter names) of every operation that has some."""
    spec, found = client.get("/openapi.json").get_json(), []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"] if method != "parameters" else []
            if names:  # every {id} an existing account's, any other path value a plausible one
                url = re.sub(r"\{([a-z_]+)\}", lambda m: "initech" if m[1].endswith("id") else "ada@acme.example", path)
                found.append((method.upper(), url, names))
    return found


def test_every_repeated_query_parameter_is_refused(client):
    operations = query_operations(client)
    assert len(operations) >= 15, operations
    before = decision_count()
    for method, url, names in operations:
        for name in names:
            value = SAMPLE.get(name, "x")
            response = client.open(url, method=method, query_string=[(name, value), (name, value)], headers=bearer())
            error = assert_error(response, 400, "malformed")
            assert error["details"]["fields"] == {name: ["given more than once"]}, (method, url, name, error)
    assert decision_count() == before
