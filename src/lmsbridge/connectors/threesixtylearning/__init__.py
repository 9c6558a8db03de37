"""The 360Learning connector (tool slug `360learning`; a package name cannot start with a digit)."""
