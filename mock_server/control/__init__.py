"""The control plane (/__mock): routes, journal, faults, seeding."""
