"""The Moodle connector (REST web services) and what it needs from a Moodle site."""
