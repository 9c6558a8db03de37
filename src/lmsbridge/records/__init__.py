"""The unified record store: one model registry, the writer, change stamps, list queries and
the anonymiser."""
