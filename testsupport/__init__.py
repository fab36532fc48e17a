"""What the tests and the benchmarks share, and the shipped packages do not need.

    races     rounds of a real worker racing a real bot's strategy on the same positions

Not part of the wheel (`pyproject.toml` packages only `deploy` and `trading`): it is imported
from a checkout, by pytest (the repository root is on its `pythonpath`) and by the benchmarks,
which run as modules from the root (`python -m bench.bench_store`).
"""
