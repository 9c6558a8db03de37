"""What lmsbridge ships for testing connectors without an account anywhere: emulators of the
remote systems' APIs, served over real HTTP."""
