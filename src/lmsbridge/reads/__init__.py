"""Synced reads: users, courses, course progressions and skills, paged and filtered."""
