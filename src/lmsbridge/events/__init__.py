"""The events outbox: events are written in the transaction that made the change (by syncs, tasks
and integrations) and read by the webhook fan-out."""
