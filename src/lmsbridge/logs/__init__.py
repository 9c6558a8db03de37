"""The interaction log: every API call recorded, secrets redacted, shown where log_url leads."""
