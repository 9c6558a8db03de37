"""Integrations: one connected LMS of one environment."""
