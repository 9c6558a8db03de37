"""The hosted connection flow and the dashboard (issue 19): connection links, the origins allowed
to frame the connection page, and signed-in dashboard sessions.

Revision ID: 0019
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision: str | None = "0012"
branch_labels = None
depends_on = None

ID = sa.String(24)
INTEGRATION_ID = sa.String(80)
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "connection_links",
        sa.Column("id", ID, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("environment_id", ID, sa.ForeignKey("environments.id"), nullable=False),
        sa.Column("link_type", sa.String(16), nullable=False),
        sa.Column("tool", sa.String(40)),
        sa.Column("language", sa.String(8)),
        sa.Column("end_user", sa.JSON(), nullable=False),
        sa.Column("relink_integration_id", INTEGRATION_ID),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("used_at", TIME),
        sa.Column("integration_id", INTEGRATION_ID),
        sa.Column("activation_token_hash", sa.String(64), unique=True),
    )
    op.create_index("ix_connection_links_environment", "connection_links", ["environment_id", "created_at"])
    op.create_table(
        "connect_frame_origins",
        sa.Column("environment_id", ID, sa.ForeignKey("environments.id"), primary_key=True),
        sa.Column("origin", sa.String(300), primary_key=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "dashboard_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("key_id", ID, sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
