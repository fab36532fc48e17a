"""The only layer that touches the outside: the Docker engine, Compose, git and subprocesses.

Everything above it asks through these modules; the programs run inside containers are in `scripts/`.
"""
