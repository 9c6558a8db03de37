"""The Sandbox: a simulated LMS inside lmsbridge, for trying everything without an account anywhere."""
