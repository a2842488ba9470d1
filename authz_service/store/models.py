"""Tables of the directory, keys, sessions and the decision log (R1, R2, R4, R7).

Longer than 200 lines: every table in one place, read together.
"""

from datetime import UTC, datetime, timedelta

import peewee as pw

database = pw.DatabaseProxy()


def utcnow() -> datetime:
    """Now, in UTC, without microseconds below what every backend keeps."""
    return datetime.now(UTC).replace(tzinfo=None)


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


EPOCH = datetime(1970, 1, 1)


def to_micros(value: datetime) -> int:
    """A naive UTC time as whole microseconds since the epoch."""
    return (value - EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    """The naive UTC time of a count of microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=value)


class MicrosField(pw.BigIntegerField):
    """A UTC time kept as microseconds since the epoch: raw SQL sorts, compares and aggregates it
    the same way on SQLite and PostgreSQL."""

    def db_value(self, value):
        return to_micros(value) if isinstance(value, datetime) else value

    def python_value(self, value):
        return None if value is None else from_micros(value)


class Account(BaseModel):
    """A partner (reseller) or a customer account owned by one partner (R1.1, R1.3)."""

    id = pw.CharField(primary_key=True, max_length=64)
    kind = pw.CharField(max_length=16)
    name = pw.CharField(max_length=200)
    partner = pw.ForeignKeyField("self", null=True, backref="customers", on_delete="RESTRICT")
    created_at = pw.DateTimeField(default=utcnow)
    partner_id: str | None  # the foreign key's value, set by peewee (as each `*_id` below)


class User(BaseModel):
    """One user: lower-case email, one home account, one group there (R2)."""

    email = pw.CharField(primary_key=True, max_length=254)
    account = pw.ForeignKeyField(Account, backref="users", on_delete="RESTRICT", index=True)
    group = pw.CharField(max_length=32, column_name="grp")
    created_at = pw.DateTimeField(default=utcnow)
    account_id: str

    class Meta:
        indexes = ((("account", "group"), False),)  # a partner's admins (R4.1), for who can act (R10.3)


class Link(BaseModel):
    """One partner user, one group, one customer (R4.2)."""

    user = pw.ForeignKeyField(User, backref="links", on_delete="CASCADE", column_name="user_email")
    customer = pw.ForeignKeyField(Account, backref="links", on_delete="CASCADE", index=True)
    group = pw.CharField(max_length=32, column_name="grp")
    linked_at = pw.DateTimeField(default=utcnow)
    # R10.1: the link's end, microseconds since the epoch (null: no end); from that instant it is
    # no link. `end_entry` is the id of the log entry recording its end, claimed by the sweeper
    # before it records it (migration 9; docs/decisions/035-time-bound-access.md).
    expires_at = MicrosField(null=True, index=True)
    end_entry = pw.CharField(max_length=32, null=True)
    user_email: str  # named after its column
    customer_id: str

    class Meta:
        primary_key = pw.CompositeKey("user", "customer")


class AccessRequest(BaseModel):
    """A partner user's request for a link to one customer, and its outcome (R10.2; migration 10).

    `status` is pending, approved, denied, cancelled or expired; a pending request past
    `expires_at` (7 days) is expired to every reader and can no longer be decided. The
    requester is kept by email (no foreign key): a removed user's pending requests are
    cancelled with them, their history stays."""

    id = pw.CharField(primary_key=True, max_length=32)
    partner = pw.CharField(max_length=64)
    customer = pw.ForeignKeyField(Account, on_delete="CASCADE", index=False)
    requester = pw.CharField(max_length=254)
    group = pw.CharField(max_length=32, column_name="grp")
    reason = pw.TextField()
    duration_hours = pw.IntegerField()
    status = pw.CharField(max_length=16)
    created_at = MicrosField()
    expires_at = MicrosField()
    decided_by = pw.CharField(max_length=254, null=True)
    decided_at = MicrosField(null=True)
    decision_reason = pw.TextField(null=True)
    granted_group = pw.CharField(max_length=32, null=True)
    granted_hours = pw.IntegerField(null=True)
    expired_entry = pw.CharField(max_length=32, null=True)  # the log entry recording its expiry
    expiry_logged = pw.BooleanField(default=False)  # that entry is in the log
    customer_id: str

    class Meta:
        table_name = "access_request"
        indexes = ((("partner", "status", "id"), False), (("requester", "status"), False),
                   (("status", "expires_at"), False))


class ViewSession(BaseModel):
    """A partner user's portal view, bound to one customer at a time (R6.1)."""

    id = pw.CharField(primary_key=True, max_length=64)
    user_email = pw.CharField(max_length=254, index=True)
    customer_id = pw.CharField(max_length=64, null=True)
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()


class Invite(BaseModel):
    """A partner's invitation to a future customer (R1.2); `expired` is computed from expires_at."""

    id = pw.CharField(primary_key=True, max_length=32)
    partner = pw.ForeignKeyField(Account, backref="invites", on_delete="CASCADE", index=True)
    email = pw.CharField(max_length=254)
    status = pw.CharField(max_length=16, default="pending")  # pending | revoked | accepted
    invited_by = pw.CharField(max_length=254)
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    ended_at = pw.DateTimeField(null=True)
    customer_id = pw.CharField(max_length=64, null=True)
    partner_id: str


class ApiKey(BaseModel):
    """A calling service's key: only its SHA-256 is kept, with its scopes."""

    id = pw.AutoField()  # what peewee adds by itself, named so that queries can order by it
    name = pw.CharField(max_length=100)
    key_hash = pw.CharField(max_length=64, unique=True)
    scopes = pw.CharField(max_length=100)
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField(null=True)
    revoked_at = pw.DateTimeField(null=True)


class Decision(BaseModel):
    """One recorded decision (R7.1); `log_account` is the activity log it belongs to (R7.2).

    `seq` numbers the one global hash chain (R7.4): `hash` covers this entry's content,
    its `seq` and `prev_hash`, the hash of entry `seq - 1` (docs/decisions/003-decision-log.md).
    """

    id = pw.CharField(primary_key=True, max_length=32)
    seq = pw.BigIntegerField(unique=True)
    prev_hash = pw.CharField(max_length=64)
    hash = pw.CharField(max_length=64)
    at = pw.DateTimeField()
    user_email = pw.CharField(max_length=254)
    account_id = pw.CharField(max_length=64, null=True)
    log_account = pw.CharField(max_length=64, null=True)
    action = pw.CharField(max_length=64)
    resource_type = pw.CharField(max_length=64, null=True)
    resource_id = pw.CharField(max_length=200, null=True)
    allowed = pw.BooleanField()
    group = pw.CharField(max_length=32, null=True, column_name="grp")
    rule = pw.CharField(max_length=200)
    reason = pw.TextField()
    session_id = pw.CharField(max_length=64, null=True)
    caller = pw.CharField(max_length=100, null=True)
    on_behalf_of_partner = pw.CharField(max_length=64, null=True)
    # A value was cleaned or cut to be storable (authz_service/log/values.py; migration 3).
    altered = pw.BooleanField(default=False)
    # The entry's place in the Merkle tree and its RFC 6962 leaf hash (R7.6; migration 7,
    # docs/decisions/030-signed-checkpoints.md): leaf_index = seq - 1 - LogTree.base.
    leaf_index = pw.BigIntegerField(null=True)
    leaf_hash = pw.CharField(max_length=64, null=True)
    # R9.7 (migration 8, docs/decisions/033-decision-facts-and-replay.md): the facts the policy
    # decided from (the table key, policy/facts.as_text) and the version of the policy that
    # decided; NULL on entries recorded before, and on entries the policy did not decide.
    facts = pw.CharField(max_length=200, null=True)
    policy_version = pw.CharField(max_length=64, null=True)

    class Meta:
        # Newest first is (at, seq) descending. Every index costs each commit a page write, so
        # there are three: an account's activity is its account_id rows with log_account set.
        indexes = (
            (("account_id", "at", "seq"), False),
            (("user_email", "at", "seq"), False),
            (("at", "seq"), False),
        )


class FactsEpoch(BaseModel):
    """The number of the last change to user, account or link (store/facts_cache.py; PostgreSQL's trigger)."""

    id = pw.IntegerField(primary_key=True)  # always 1
    epoch = pw.BigIntegerField(default=0)


class FactsHolder(BaseModel):
    """A process keeping facts in memory: its lease (database clock, epoch seconds) and the
    last change it has emptied its cache for (store/facts_cache.py)."""

    id = pw.CharField(primary_key=True, max_length=80)
    seen = pw.BigIntegerField()
    lease_until = pw.DoubleField()


class LogHead(BaseModel):
    """The decision log's one chain: locked by each append (PostgreSQL); where archiving stopped."""

    id = pw.IntegerField(primary_key=True)  # always 1: one global chain
    archived_seq = pw.BigIntegerField(default=0)
    archived_hash = pw.CharField(max_length=64)


class LogTree(BaseModel):
    """The Merkle tree's right edge (R7.6): its size and the roots of its perfect subtrees, in
    hex, largest first, so an append is O(log n); `base` entries (archived before the tree
    existed) precede leaf 0. Written in the chain's lock, with each batch."""

    id = pw.IntegerField(primary_key=True)  # always 1: one tree over the one chain
    base = pw.BigIntegerField(default=0)
    size = pw.BigIntegerField(default=0)
    frontier = pw.TextField(default="")


class LogNode(BaseModel):
    """Roots of the tree's complete aligned subtrees of 16, 256, 4,096, ... leaves (height 4, 8,
    12, ...; migration 12 added 4, 12, 20, ...): `position` counts them from the left. Proofs
    read these instead of every leaf (R7.6); height 0 holds the leaves of archived entries."""

    height = pw.SmallIntegerField()
    position = pw.BigIntegerField()
    hash = pw.CharField(max_length=64)

    class Meta:
        primary_key = pw.CompositeKey("height", "position")


class Setting(BaseModel):
    """Service-wide values shared by every replica (e.g. the cursor signing secret)."""

    key = pw.CharField(primary_key=True, max_length=100)
    value = pw.TextField()


class ConsoleSession(BaseModel):
    """A signed-in console session: only a SHA-256 of its id is kept; deleted at sign-out."""

    id_hash = pw.CharField(primary_key=True, max_length=64)
    key_hash = pw.CharField(max_length=64)  # the signed-in key's digest, re-checked on every page
    key_name = pw.CharField(max_length=100)
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField(index=True)


class Contact(BaseModel):
    """A company contact of a partner: name, email, type (R8.2); not a user, never authorized."""

    partner = pw.ForeignKeyField(Account, backref="contacts", on_delete="CASCADE")
    email = pw.CharField(max_length=254)
    name = pw.CharField(max_length=200)
    type = pw.CharField(max_length=16)  # admin | billing | technical
    partner_id: str

    class Meta:
        primary_key = pw.CompositeKey("partner", "email")


class Notification(BaseModel):
    """One mail for one event and one admin contact (R8.1, R8.3): the outbox row, rendered when queued."""

    id = pw.AutoField()
    event_id = pw.CharField(max_length=255)
    event = pw.CharField(max_length=16)  # provisioned | deleted
    partner = pw.ForeignKeyField(Account, backref="notifications", on_delete="CASCADE")
    customer_id = pw.CharField(max_length=64)
    service_id = pw.CharField(max_length=200)
    email = pw.CharField(max_length=254)
    subject = pw.TextField()
    body_text = pw.TextField()
    body_html = pw.TextField()
    status = pw.CharField(max_length=16, default="pending")  # pending | sent | failed
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.DateTimeField(default=utcnow)
    lease_until = pw.DateTimeField(null=True)
    lease_owner = pw.CharField(max_length=32, null=True)
    last_error = pw.TextField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    sent_at = pw.DateTimeField(null=True)
    partner_id: str

    class Meta:
        indexes = (
            (("event_id", "email"), True),  # one mail per event and contact
            (("status", "next_attempt_at"), False),
            (("partner", "id"), False),
        )


class SchemaVersion(BaseModel):
    """Which migrations have run (forward only)."""

    version = pw.IntegerField(primary_key=True)
    applied_at = pw.DateTimeField(default=utcnow)


class Service(BaseModel):
    """A customer's service as the provisioning system reports it (R5.2-R5.7); kept when deleted.

    Its id is unique within its customer only (migration 4): one tenant's ids say nothing of another's."""

    id = pw.CharField(max_length=64)
    customer = pw.ForeignKeyField(Account, backref="services", on_delete="CASCADE", index=False)
    kind = pw.CharField(max_length=32)
    monthly_price_cents = pw.BigIntegerField()
    ordered_at = MicrosField()
    billing_starts_at = MicrosField(null=True)
    created_at = MicrosField()
    deleted_at = MicrosField(null=True)
    customer_id: str

    class Meta:
        primary_key = pw.CompositeKey("customer", "id")
        indexes = ((("customer", "deleted_at"), False),)


class CustomerFigures(BaseModel):
    """One row per customer: the Customers page figures, kept in step with every event (R5).

    `mrr_cents` counts the services whose billing had started when the row was last
    brought up to date; `next_billing_at` is the earliest later billing start, so a
    reader knows exactly which rows to bring up to date (docs/decisions/004).
    Rows are created and renamed with their account by triggers (store/summary.py).
    """

    customer = pw.ForeignKeyField(Account, primary_key=True, on_delete="CASCADE")
    partner_id = pw.CharField(max_length=64)
    name = pw.CharField(max_length=200)
    mrr_cents = pw.BigIntegerField(default=0)
    next_billing_at = MicrosField(null=True)
    ports = pw.IntegerField(default=0)
    vcs = pw.IntegerField(default=0)
    cloud = pw.IntegerField(default=0)
    last_activity = MicrosField(null=True)
    last_order = MicrosField(null=True)
    customer_id: str
