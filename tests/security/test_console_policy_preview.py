"""The console's policy preview under attack (R9.6, R9.7, R7.5): only a signed-in session with its
CSRF token previews; hostile uploads (names, encodings, sizes, casbin models the checks do not
foresee) are refused with a clear page, never a 500; nothing is recorded, written or reloaded."""

import io

import pytest

from authz_service.policy import snapshot
from tests.support.auth import BOOTSTRAP
from tests.support.console import csrf, entries, make_key, sign_in
from tests.support.policy_scratch import POLICIES, policy_files

DOWNLOAD, VIEW_ONLY = "p, read_only, *, invoice: view download, allow", "p, read_only, *, invoice: view, allow"


def _post(client, files: list[tuple[str, bytes]], token: str | None = None, since: str = "30d"):
    data = {"since": since, "files": [(io.BytesIO(body), name) for name, body in files]}
    if token is not None:
        data["csrf_token"] = token
    return client.post("/console/preview", data=data, content_type="multipart/form-data")


def test_an_audit_key_previews_and_nothing_is_recorded_or_changed(app, client):
    """Any signed-in (audit) key previews; the policy in force, its files and the log stay as they were."""
    assert sign_in(client, make_key("auditor", ["audit"])).status_code == 302
    in_force, files_before, stored = app.extensions["authz"].policy.version, snapshot.read(POLICIES).digest, len(entries())
    changed = policy_files()["account.csv"].replace(DOWNLOAD, VIEW_ONLY).encode()
    response = _post(client, [("account.csv", changed)], csrf(client))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Verdict: <strong>less permissive</strong>" in text
    assert app.extensions["authz"].policy.version == in_force
    assert snapshot.read(POLICIES).digest == files_before
    assert len(entries()) == stored


def test_without_a_session_or_csrf_token_nothing_is_previewed(client):
    changed = [("account.csv", policy_files()["account.csv"].encode())]
    assert _post(client, changed).status_code == 302  # to sign-in
    assert sign_in(client, BOOTSTRAP).status_code == 302
    assert _post(client, changed).status_code == 400
    assert _post(client, changed, "forged").status_code == 400


HOSTILE = [
    ([("../account.csv", b"x")], "is not a policy file name"),
    ([("tests/decisions.csv", b"x")], "is not a policy file name"),
    ([("account.csv\x00.png", b"x")], "is not a policy file name"),
    ([("notes.txt", b"x")], "is not a policy file name"),
    ([("account.csv", b"\xff\xfe p, admin")], "is not UTF-8 text"),
    ([], "choose at least one policy file"),
    ([("account.csv", b"a"), ("account.csv", b"b")], "uploaded twice"),
    ([(f"f{n}.csv", b"") for n in range(21)], "at most 20 files"),
    ([("model.conf", b"[request_definition]\nr = sub\n[matchers]\nm = eval(r.sub)\n")], None),
    ([("model.conf", b"\x00\x01")], None),
    ([("vocabulary.toml", b"groups = 'admin'\n")], None),
    ([("scoping.csv", b"g, \"unterminated\n")], None),
    ([("account.csv", "p, admin, *, \u202e port: view, allow\n".encode())], None),
]


@pytest.mark.parametrize("files, said", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_hostile_uploads_are_refused_clearly(client, files, said):
    """422 with the reason (or the checks' file:line problems), never a 500; the log untouched."""
    assert sign_in(client, BOOTSTRAP).status_code == 302
    stored = len(entries())
    response = _post(client, files, csrf(client))
    text = response.get_data(as_text=True)
    assert response.status_code == 422, text[:500]
    assert (said in text) if said else ("Verdict: <span class=\"deny\">refused</span>" in text
                                         or "could not be loaded" in text)
    assert len(entries()) == stored
