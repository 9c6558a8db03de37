"""Udemy Business: a read-only content library. Courses from `courses/list`, users and course
progressions from the reporting API (`analytics/user-activity`, `analytics/user-course-activity`,
the latter with its `from_date` change filter), skills from the course categories. Udemy's API
writes nothing: every write action is UNSUPPORTED and refused before a task exists."""
