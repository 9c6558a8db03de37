"""Tests of connectors and of the shared remote HTTP client."""
