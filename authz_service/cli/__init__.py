"""`authz`: serve, worker, keys, policy check|test|diff|matrix|compare|lint|impact, demo, db migrate|status, log verify|archive.

One click group (or top-level command) per module; `main` adds them from one explicit list.
"""

import click

from authz_service import store
from authz_service.cli import db, demo, keys, log, policy, serve


class _Commands(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except store.Unconfirmed as exc:  # stored, but a server's facts cache did not confirm it
            raise click.ClickException(f"{exc}; check the change, then retry") from None


@click.group(cls=_Commands)
def main():
    """authz-service: policy-as-code authorization for a partner portal."""


for command in (serve.serve, serve.worker, keys.keys, policy.policy_group, demo.demo, db.db,
                log.log_group):
    main.add_command(command)
