"""The API suite's app records decisions on production's path: a spool file and the log writer
process (docs/decisions/025-tests.md; R7.1, R7.4).

Readers of the log in the service sync first (`chain.sync()`), as under `authz serve`; a test
that reads the decision table itself syncs first too (tests/support/reads.py). A test marked
`in_process_log` gets the in-process group commit instead, and says why in its docstring.
"""

import pytest

from authz_service import store
from authz_service.app import create_app
from authz_service.log import spool
from authz_service.store import fixtures
from tests.support import backends
from tests.support.auth import BOOTSTRAP
from tests.support.log_writer import WriterHost
from tests.support.reads import close_database


@pytest.fixture(scope="session")
def writer_host(tmp_path_factory):
    """One process forking a decision log writer per test."""
    host = WriterHost(tmp_path_factory.mktemp("writers"))
    yield host
    host.stop()


@pytest.fixture
def app(database_url, tmp_path, request, monkeypatch, writer_host):
    """The service on a fresh database with the demo data; decisions go through the spool."""
    application = create_app({"database_url": database_url, "bootstrap_key": BOOTSTRAP,
                              "policy_poll_seconds": 0, "log_spool_dir": str(tmp_path),
                              **backends.side_files(database_url, tmp_path)}, migrate=True)
    writer = None
    if request.node.get_closest_marker("in_process_log") is None:
        writer = writer_host.start(application.config["AUTHZ"], database_url)
        monkeypatch.setenv(spool.SPOOL_ENV, writer.spool)
        monkeypatch.setenv(spool.SOCKET_ENV, writer.socket)
    try:
        with store.connection():
            fixtures.load()
        yield application
    finally:
        if writer is not None:
            writer.stop()
            writer.forget_appender()
        close_database()
