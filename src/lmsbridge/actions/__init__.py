"""Direct write actions: enrol a user, complete a progression, deactivate a course."""
