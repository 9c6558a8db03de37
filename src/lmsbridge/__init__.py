"""lmsbridge: a self-hosted unified API for learning management systems."""

__version__ = "0.1.0"
