"""Webhooks: endpoints registered per environment, the events outbox fanned out into one delivery
per (event, endpoint), each delivered by jobs, signed as Kombo signs, retried with backoff."""
