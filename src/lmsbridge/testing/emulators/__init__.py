"""Emulators of remote LMS APIs: ASGI apps faithful to each protocol (auth, parameter encoding,
response and error shapes, HTTP statuses), each with a seeded site and fault injection."""
