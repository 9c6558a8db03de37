"""The sync engine: keeps the store's copy of each integration's LMS current."""
