"""Integration lifecycle (issue 12): an integration's end user (from its connection link) and when
its settings or credentials were last updated (a bulk task that FAILED before that is not reused).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("integrations", sa.Column("end_user", sa.JSON()))
    op.add_column("integrations", sa.Column("updated_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
