"""The store: one SQLite file (embedded default) or one PostgreSQL database (scale-out)."""

from lmsbridge.db.engine import Store, open_store

__all__ = ["Store", "open_store"]
