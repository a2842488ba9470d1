"""authz-client: ask authz-service whether a user may do an action; fails closed.

    from authz_client import AuthzClient, Forbidden

    client = AuthzClient("http://authz:8080", api_key)
    if client.authorize("ada@acme.example", "port.create", "initech"):
        ...
    client.require("ada@acme.example", "port.create", "initech")  # raises Forbidden on deny
    client.evaluate("ada@acme.example", "port.create", "initech")  # AuthZEN 1.0; any error denies

Needs urllib3 only. Flask views: `authz_client.flask.requires` (the `flask` extra).
"""

from authz_client.client import AuthzClient
from authz_client.decision import FAIL_CLOSED_RULE, Decision, Forbidden
from authz_client.errors import AuthzClientError, AuthzError, Unavailable
from authz_client.tlog import Checkpoint, LogProofError, open_checkpoint
from authz_client.transport import is_repeatable

__version__ = "0.1.0"
__all__ = ["FAIL_CLOSED_RULE", "AuthzClient", "AuthzClientError", "AuthzError", "Checkpoint", "Decision",
           "Forbidden", "LogProofError", "Unavailable", "is_repeatable", "open_checkpoint"]
