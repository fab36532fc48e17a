"""What the tests and the benchmarks share, and the shipped packages never use.

    sandbox   a throw-away deployment: a repository, compose project, images and volumes of its
              own, removed afterwards (`throwaway`: also when the block fails)
    cli       the operator's `invoke` against a sandbox, and the shape every refusal has
    failing   releases meant to fail (a bot that never beats, one that hangs), what a rollback leaves
    evidence  a deployment's state on the engine (what a plan must not change), a report page's HTML
    committer a program that commits for ever, for backups taken while it runs
    legacy    a legacy volume in the seed's layout (code and state together), for the volume rebuild
    races     rounds of a real worker racing a real bot's strategy on the same positions
    records   the deployment's records in memory (the `Records` port without an engine)
    waiting   `wait_for`: polling with a bound, and a message naming what never came

Not part of the wheel (`pyproject.toml` packages only `deploy` and `trading`): an operator's
`pip install .` carries no fixtures. It is imported from a checkout, by pytest (the repository
root is on its `pythonpath`) and by the benchmarks, which run as modules from the root
(`python -m bench.bench_pipeline`) — so neither reaches into the other through `sys.path`.
"""
