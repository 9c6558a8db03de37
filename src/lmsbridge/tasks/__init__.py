"""Asynchronous bulk tasks: submit, run item by item through a connector, poll."""
