"""Settings from AUTHZ_* environment variables (docs/api.md "Running")."""

import os
from dataclasses import dataclass, fields


@dataclass
class Settings:
    """Everything the service reads from its environment."""

    database_url: str = "sqlite:///var/authz.db"
    bootstrap_key: str | None = None
    policy_dir: str = "policies"
    smtp_url: str | None = None
    mail_from: str = "authz@localhost"
    mail_poll_seconds: float = 2.0  # the in-service sender's poll; 0: none (tests, `authz worker`)
    mail_retry_seconds: float = 30.0  # first retry delay, doubled each attempt
    mail_retry_max_seconds: float = 3600.0
    mail_lease_seconds: float = 300.0  # a crashed sender's rows are retried after this
    session_ttl_hours: float = 12.0
    policy_poll_seconds: float = 2.0
    link_sweep_seconds: float = 5.0  # R10.1: ended links are removed and their ends recorded this often (0: never)
    sqlite_busy_timeout_ms: int = 10000  # how long a SQLite write waits for the lock before 503
    console_secure_cookie: bool = False  # set true behind HTTPS
    console_secret_file: str | None = None  # the console's cookie-signing secret; default beside the SQLite file, var/ for PostgreSQL
    log_verify_seconds: float = 300.0  # `authz serve`'s log writer verifies the chain this often (0: never)
    console_session_hours: float = 8.0  # a console sign-in lasts this long (server-side; sign-out ends it)
    max_body_bytes: int = 1_048_576
    request_read_seconds: float = 5.0  # `authz serve`: a request's head and body by then, else 408
    fast_authorize: bool = True  # POST /v1/authorize outside the framework when well-formed
    switch_interval_ms: float = 1.0  # workers' sys.setswitchinterval (Python's default: 5 ms)
    log_writer: bool = True  # `authz serve`: workers append to a spool, one process stores it
    facts_cache: bool = True  # `authz serve` on PostgreSQL: workers keep facts in memory, coherently
    log_spool_dir: str | None = None  # default: the SQLite file's folder; var/ for PostgreSQL
    log_key_file: str | None = None  # the log's Ed25519 checkpoint key; default beside the SQLite file, var/ for PostgreSQL
    log_witness_dir: str | None = None  # where signed checkpoints are kept (append-only); default as the key
    log_witness_copies: str | None = None  # more folders each checkpoint is also written to (os.pathsep between)
    log_witness_push: str | None = None  # a folder or an http(s) URL each checkpoint is pushed to (a thread of the writer)
    log_otlp_endpoint: str | None = None  # an OTLP/HTTP logs URL each stored entry is sent to (a thread of the writer)
    log_origin: str | None = None  # a new key's name, the checkpoints' origin; default authz-service/<random>
    log_checkpoint_seconds: float = 10.0  # `authz serve`'s log writer signs a checkpoint this often while entries arrive
    public_url: str | None = None  # the service's base URL for AuthZEN discovery; default the request's

    @classmethod
    def from_env(cls, overrides: dict | None = None) -> "Settings":
        """Defaults, then AUTHZ_<NAME> variables, then explicit overrides (tests)."""
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"AUTHZ_{f.name.upper()}")
            if raw not in (None, ""):
                values[f.name] = _convert(raw, f.default)
        values.update({k: v for k, v in (overrides or {}).items() if k in {f.name for f in fields(cls)}})
        return cls(**values)


def _convert(raw: str, default):
    if isinstance(default, bool):
        return raw.lower() in ("1", "true", "yes")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw
