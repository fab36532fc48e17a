"""Programs run inside containers by their image's python3: standard library only, no import of `deploy`."""
