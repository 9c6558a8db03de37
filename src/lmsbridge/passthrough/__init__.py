"""Passthrough: requests to an integration's own remote API through its connector."""
