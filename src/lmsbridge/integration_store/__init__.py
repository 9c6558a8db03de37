"""Where integrations are kept: their rows and their sealed credentials. Below every domain that
works for an integration (syncs, tasks, webhooks), so none of them needs the integrations service."""
