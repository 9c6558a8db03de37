"""The HTTP application: assembly only, no business rules."""
