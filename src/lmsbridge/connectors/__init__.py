"""Connectors: one per remote LMS, each declaring what it can read and write."""
