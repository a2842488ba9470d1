"""Shared words for the AuthZEN tests: the certification scenario's fixture on our domain.

The scenario's alice and bob become ada (a partner admin: may view and create ports on
Initech) and sam (support linked to Initech: may view, may not create); its `read` and
`write` become `port.view` and `port.create`, its `record-1` the customer Initech.
"""

from tests.support.auth import bearer

ALICE, BOB = "ada@acme.example", "sam@acme.example"
READ, WRITE = "port.view", "port.create"
RECORD = "initech"


def subject(email: str = ALICE) -> dict:
    return {"type": "user", "id": email}


def action(name: str = READ) -> dict:
    return {"name": name}


def resource(account: str = RECORD, **properties) -> dict:
    found = {"type": "account", "id": account}
    return found | ({"properties": properties} if properties else {})


def evaluation(who: str = ALICE, what: str = READ, where: str = RECORD, **extra) -> dict:
    return {"subject": subject(who), "action": action(what), "resource": resource(where), **extra}


def post(client, path: str, body=None, headers: dict | None = None, **kwargs):
    """POST to an AuthZEN path with the bootstrap key (`body` as JSON unless `data=` is given)."""
    if body is not None:
        kwargs["json"] = body
    return client.post(f"/access/v1/{path}", headers={**bearer(), **(headers or {})}, **kwargs)


def decisions(client, **query) -> list[dict]:
    """Every recorded decision matching the query, newest first (GET /v1/decisions)."""
    items, cursor = [], None
    while True:
        params = {"limit": 500, **query, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/decisions", query_string=params, headers=bearer())
        assert page.status_code == 200, page.json
        items += page.json["items"]
        cursor = page.json["next_cursor"]
        if cursor is None:
            return items
