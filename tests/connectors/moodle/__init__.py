"""The Moodle connector and its emulator, over real HTTP on loopback."""
