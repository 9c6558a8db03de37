"""Integration lifecycle (issue 12): an integration's end user (from its connection link) and when
it was last updated.

Carried by branch i19, which builds on i12's lifecycle work; the same DDL as i12's interim
migration 12. Keep one file if i12 lands its own revision 0012.

Revision ID: 0012
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("integrations", sa.Column("end_user", sa.JSON()))
    op.add_column("integrations", sa.Column("updated_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
