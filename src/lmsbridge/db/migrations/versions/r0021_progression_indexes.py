"""Fewer, smaller progression indexes (issue 20): a full sync writes each progression into every
index, most of them keyed on random ids. The remote-id index goes: a record's id is derived from
its integration, model and remote id, so a lookup or a `remote_ids` filter by remote id is a
lookup by primary key. The user and course indexes lose their integration prefix: a user or
course id is derived from its integration already, so the prefix made each entry longer and
selected nothing more.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision: str | None = "0020"
branch_labels = None
depends_on = None

TABLE = "lms_course_progressions"


def upgrade() -> None:
    op.drop_index("ix_lms_progressions_remote", table_name=TABLE)
    op.drop_index("ix_lms_progressions_user", table_name=TABLE)
    op.drop_index("ix_lms_progressions_course", table_name=TABLE)
    op.create_index("ix_lms_progressions_user", TABLE, ["user_id", "id"])
    op.create_index("ix_lms_progressions_course", TABLE, ["course_id", "id"])


def downgrade() -> None:
    raise NotImplementedError("migrations are forward-only")
