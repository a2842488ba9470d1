"""Tables of the directory, keys, sessions and the decision log (R1, R2, R4, R7)."""

from datetime import UTC, datetime

import peewee as pw

database = pw.DatabaseProxy()


def utcnow() -> datetime:
    """Now, in UTC, without microseconds below what every backend keeps."""
    return datetime.now(UTC).replace(tzinfo=None)


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Account(BaseModel):
    """A partner (reseller) or a customer account owned by one partner (R1.1, R1.3)."""

    id = pw.CharField(primary_key=True, max_length=64)
    kind = pw.CharField(max_length=16)
    name = pw.CharField(max_length=200)
    partner = pw.ForeignKeyField("self", null=True, backref="customers", on_delete="RESTRICT")
    created_at = pw.DateTimeField(default=utcnow)


class User(BaseModel):
    """One user: lower-case email, one home account, one group there (R2)."""

    email = pw.CharField(primary_key=True, max_length=254)
    account = pw.ForeignKeyField(Account, backref="users", on_delete="RESTRICT", index=True)
    group = pw.CharField(max_length=32, column_name="grp")
    created_at = pw.DateTimeField(default=utcnow)


class Link(BaseModel):
    """One partner user, one group, one customer (R4.2)."""

    user = pw.ForeignKeyField(User, backref="links", on_delete="CASCADE", column_name="user_email")
    customer = pw.ForeignKeyField(Account, backref="links", on_delete="CASCADE", index=True)
    group = pw.CharField(max_length=32, column_name="grp")
    linked_at = pw.DateTimeField(default=utcnow)

    class Meta:
        primary_key = pw.CompositeKey("user", "customer")


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


class ApiKey(BaseModel):
    """A calling service's key: only its SHA-256 is kept, with its scopes."""

    name = pw.CharField(max_length=100)
    key_hash = pw.CharField(max_length=64, unique=True)
    scopes = pw.CharField(max_length=100)
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField(null=True)
    revoked_at = pw.DateTimeField(null=True)


class Decision(BaseModel):
    """One recorded decision (R7.1); `log_account` is the activity log it belongs to (R7.2)."""

    id = pw.CharField(primary_key=True, max_length=32)
    at = pw.DateTimeField(index=True)
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

    class Meta:
        indexes = ((("log_account", "at"), False),)


class Setting(BaseModel):
    """Service-wide values shared by every replica (e.g. the cursor signing secret)."""

    key = pw.CharField(primary_key=True, max_length=100)
    value = pw.TextField()


class SchemaVersion(BaseModel):
    """Which migrations have run (forward only)."""

    version = pw.IntegerField(primary_key=True)
    applied_at = pw.DateTimeField(default=utcnow)


ALL_TABLES = [Account, User, Link, ViewSession, ApiKey, Decision, Setting, SchemaVersion]
