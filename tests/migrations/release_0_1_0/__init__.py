"""lmsbridge 0.1.0's schema code, frozen: its table definitions and its versioned migrations 1-4,
copied unchanged but for the imports. The upgrade test builds a store with it, exactly as the
release's `lmsbridge migrate` did, to prove Alembic takes such a store over without losing a row.
Never edit these files to follow `src/`: they are what users' stores were made by."""
