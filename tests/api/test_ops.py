"""Operations endpoints: health, readiness, metrics, OpenAPI, docs, request ids (docs/api.md)."""


def test_health_and_readiness(client):
    """/healthz answers; /readyz reports the database and the loaded policy's version."""
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["database"] is True and len(ready.json["policy_version"]) == 12


def test_metrics_count_decisions_by_action_and_outcome(client, api):
    """/metrics is Prometheus text with decisions by action and outcome, and latencies."""
    api.authorize("ada@acme.example", "lag.manage_members", "initech")
    api.authorize("ian@initech.example", "lag.manage_members", "acme")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'authz_decisions_total{action="lag.manage_members",allowed="true"}' in text
    assert 'authz_decisions_total{action="lag.manage_members",allowed="false"}' in text
    assert 'authz_request_seconds_bucket{endpoint="/v1/authorize"' in text


def test_request_id_is_echoed_or_made(client):
    """Every response carries X-Request-Id: the caller's plain token, or a new one."""
    assert client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-Id": "bad id!"}).headers["X-Request-Id"]
    assert made != "bad id!" and len(made) == 32


def test_openapi_lists_the_contracts_paths(client):
    """/openapi.json documents every path of docs/api.md implemented so far, with bearer security."""
    spec = client.get("/openapi.json").json
    for path in ["/v1/authorize", "/v1/authorize/batch", "/v1/authorize/accounts",
                 "/v1/partners/{partner_id}", "/v1/partners/{partner_id}/users/{email}",
                 "/v1/customers/{customer_id}/users/{email}", "/v1/users/{email}",
                 "/v1/customers/{customer_id}/links", "/v1/customers/{customer_id}/links/{email}",
                 "/v1/customers/{customer_id}/linkable-users", "/v1/partners/{partner_id}/invites",
                 "/v1/invites/{invite_id}", "/v1/invites/{invite_id}/accept", "/v1/sessions",
                 "/v1/sessions/{session_id}", "/v1/sessions/{session_id}/customer",
                 "/healthz", "/readyz", "/metrics"]:
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert client.get("/docs").status_code == 200
