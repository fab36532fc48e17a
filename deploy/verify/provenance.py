"""Points that prove where the running release came from, beside the code digests. Pure; no I/O.

- `code layer`: the live image's last layer (its diff_id in `RootFS.Layers`) equals the
  layer computed from the commit alone (`deploy.steps.codelayer`); a label saying otherwise is
  named too. Labels can be written by anyone; a layer digest cannot be forged without
  the commit's exact bytes, modes and times.
- `release image`: the live image is one the pipeline built for its commit (`deploy.records.builds`):
  its id, and so every layer under the code layer, the base's included. An image re-built from the
  commit's own context with lines added before the code layer keeps that layer and every label; only
  its id and its lower layers differ, and this point names them.
"""

from __future__ import annotations

from collections.abc import Sequence

from deploy.ids import short
from deploy.records import builds
from deploy.verify.codecompare import PointResult

RELEASE_IMAGE = "release image"


def code_layer_point(expected: str, layers: Sequence[str], declared: str | None) -> PointResult:
    """`expected`: the commit's code layer diff_id; `layers`: the image's diff_ids; `declared`: its label."""
    actual = layers[-1] if layers else None
    problems = []
    if actual != expected:
        problems.append(f"the image's code layer is {_short(actual)}, the commit's is {_short(expected)}")
    if declared and declared != expected:
        problems.append(f"label declares code layer {_short(declared)}, the commit's is {_short(expected)}")
    return PointResult("code layer", actual, problems=tuple(problems))


def release_image_point(
    image_id: str, layers: Sequence[str], commit: str, records: Sequence[builds.Build]
) -> PointResult:
    """`image_id`, `layers`: the live image's; `commit`: its revision label; `records`: the build records."""
    recorded = builds.of_image(records, image_id)
    if recorded is not None and recorded.commit == commit:
        return PointResult(RELEASE_IMAGE, image_id)
    of_commit = builds.of_commit(records, commit)
    if not of_commit:
        problem = f"no build of {short(commit)} is recorded: image {short(image_id)} was not built by this pipeline"
        return PointResult(RELEASE_IMAGE, image_id, problems=(problem,))
    return PointResult(RELEASE_IMAGE, image_id, problems=tuple(_differs(image_id, layers, b) for b in of_commit))


def _differs(image_id: str, layers: Sequence[str], record: builds.Build) -> str:
    said = f"the live image is {short(image_id)}, the build of {short(record.commit)} is {short(record.image_id)}"
    first = builds.first_difference(layers, record.layers) if record.layers else None
    if first is None:
        return said
    return f"{said}: its layers differ from layer {first + 1} of {len(layers)} on (the recorded {len(record.layers)})"


def uncomputable_point(reason: str) -> PointResult:
    return PointResult("code layer", None, problems=(reason,))


def _short(digest: str | None) -> str:
    return short(digest) if digest else "none"
