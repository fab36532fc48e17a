"""Throw-away deployments and fixtures the integration tests and the benchmarks share; the pipeline never uses them.

sandbox  a repository, compose project, images and volumes of its own, removed afterwards
legacy   a legacy volume in the seed's layout (code and state together), for the volume rebuild
"""
