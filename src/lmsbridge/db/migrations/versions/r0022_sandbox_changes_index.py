"""The Sandbox's change index ends in remote_id (issue 20): a delta pages the Sandbox's changed
records by (updated_at, remote_id), and records changed together share their updated_at, so
without remote_id in the index each page sorted the whole group again.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision: str | None = "0021"
branch_labels = None
depends_on = None

TABLE = "sandbox_records"


def upgrade() -> None:
    op.drop_index("ix_sandbox_records_updated", table_name=TABLE)
    columns = ["integration_id", "model", "updated_at", "remote_id"]
    op.create_index("ix_sandbox_records_updated", TABLE, columns)


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
