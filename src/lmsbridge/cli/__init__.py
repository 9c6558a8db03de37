"""The `lmsbridge` command line."""
