"""The Sandbox LMS's state in the store: what a remote system would hold."""
