"""Points that prove where the running release came from, beside the code digests. Pure; no I/O.

- `code layer`: the live image's last layer (its diff_id in `RootFS.Layers`) equals the
  layer computed from the commit alone (`deploy.steps.codelayer`); a label saying otherwise is
  named too. Labels can be written by anyone; a layer digest cannot be forged without
  the commit's exact bytes, modes and times.
"""

from __future__ import annotations

from collections.abc import Sequence

from deploy.ids import short
from deploy.verify.codecompare import PointResult


def code_layer_point(expected: str, layers: Sequence[str], declared: str | None) -> PointResult:
    """`expected`: the commit's code layer diff_id; `layers`: the image's diff_ids; `declared`: its label."""
    actual = layers[-1] if layers else None
    problems = []
    if actual != expected:
        problems.append(f"the image's code layer is {_short(actual)}, the commit's is {_short(expected)}")
    if declared and declared != expected:
        problems.append(f"label declares code layer {_short(declared)}, the commit's is {_short(expected)}")
    return PointResult("code layer", actual, problems=tuple(problems))


def uncomputable_point(reason: str) -> PointResult:
    return PointResult("code layer", None, problems=(reason,))


def _short(digest: str | None) -> str:
    return short(digest) if digest else "none"
