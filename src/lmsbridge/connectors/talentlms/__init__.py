"""TalentLMS: users over the Public API v2 (with its change filter), courses and progressions over
API v1, course upserts and deactivation through v2's batch upsert, enrolment through v1."""
