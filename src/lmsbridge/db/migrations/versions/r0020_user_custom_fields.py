"""Users keep the customer's own fields (`custom_fields`) and the raw remote fields they carry
(`integration_fields`), as Workday's workers give them (issue 17).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision: str | None = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("lms_users", sa.Column("custom_fields", sa.JSON()))
    op.add_column("lms_users", sa.Column("integration_fields", sa.JSON()))


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
