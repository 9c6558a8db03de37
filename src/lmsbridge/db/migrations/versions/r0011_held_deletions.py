"""Deletion guard: the deletions a full sync held (more than the integration's share of a model's
records unseen at once), kept per run until an operator confirms them.

Revision ID: 0011
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sync_runs", sa.Column("held_deletions", sa.JSON()))


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
