"""Environments and API keys."""
