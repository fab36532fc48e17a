"""Bot and worker as steps of a procedure: started from a release (recreate, wait, verify), removed,
and what a failed release's containers said kept before they are removed (`keep_evidence`).

Compose runs on the tree of the release's commit (`compose_run`, `deploy.engine.tree`); the wait is
`deploy.steps.startup`'s (by container id, judged by progress); verify is `deploy.verify`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from deploy import verify as verification
from deploy.engine import compose
from deploy.engine.observe import Evidence
from deploy.ids import short
from deploy.procedures.procedure import Deployment, Step, captured, verify_failed
from deploy.records import ledger
from deploy.steps import evidence, handover, snapshot, startup
from deploy.steps.images import ReleaseImage

# The stop grace period of a failed release's containers when the earlier release replaces them: it never
# became healthy (a hung bot may never see SIGTERM), and what it saved is crash-safe, so do not wait its grace.
FAILED_STOP_SECONDS = 1


def start_steps(
    d: Deployment,
    image: ReleaseImage,
    stop_timeout: int | None = None,
    expected: Callable[[], verification.Expected] | None = None,
) -> list[Step]:
    """Recreate bot and worker from `image` in one compose call, wait until both run (judged by progress), verify.

    `stop_timeout` shortens the grace period of the containers replaced (see `FAILED_STOP_SECONDS`). A
    release that went live before (by the ledger) is judged as one: no cap, 3 times the stall.
    `expected`: verify's side of `image` read ahead (`verification.ahead`).
    """
    argv = tuple(compose.up(d.compose, d.settings, d.trees.path(image.commit), stop_timeout=stop_timeout))
    ran_before = image.image_id in ledger.tried(d.records.entries()).succeeded
    started: dict[str, str] = {}  # each service's container the wait saw run: verify judges it, without a probe
    return [
        Step(f"recreate bot and worker from {short(image.commit)}", lambda: compose_run(d, argv, image), argv, True),
        Step(
            "wait until bot and worker run",
            lambda: wait_running(d, image, ran_before, started),
            bot_down=True,
            proves=True,
        ),
        Step(f"verify that {short(image.commit)} runs", lambda: verified(d, started, expected)),
    ]


def wait_running(d: Deployment, image: ReleaseImage, ran_before: bool, started: dict[str, str]) -> str:
    """`startup.wait` for the one bot and worker of `image`, then their stable names (Compose keeps a recreated
    container's number: after a handover that is not 1); what it judged, said as the step's result."""
    begun = time.monotonic()
    targets = startup.of_release(d.settings, d.engine, image.image_id, image.code_digest, ran_before)
    judged = startup.wait(d.engine, targets)
    started.update({target.service: target.container for target in targets})
    handover.rename(d.engine, d.settings, started)
    return "; ".join(j.why for j in judged.values()) + f", in {time.monotonic() - begun:.1f} s"


def remove_step(d: Deployment, image: ReleaseImage, check: bool = False, stop_timeout: int | None = None) -> Step:
    """Stop and remove bot and worker: each gets its stop grace period to save, or `stop_timeout` seconds.

    A release that failed (or an attempt killed on the way) gets `FAILED_STOP_SECONDS`, as when it is replaced.
    """
    argv = tuple(compose.remove(d.compose, d.settings, d.trees.path(image.commit), stop_timeout=stop_timeout))
    how = "the bot saves on its way out" if stop_timeout is None else f"{stop_timeout} s to stop: it failed"
    name = f"stop and remove bot and worker of {short(image.commit)} ({how})"
    return Step(name, lambda: compose_run(d, argv, image, check), argv, bot_down=True)


def compose_run(d: Deployment, argv: Sequence[str], image: ReleaseImage, check: bool = True) -> None:
    """Run a compose command (made with `d.trees.path(image.commit)`) on the tree of `image`'s commit."""
    d.trees.export(d.repo, image.commit)
    d.runner.run(argv, env=compose.env(d.settings, d.environ), check=check)


def verified(
    d: Deployment, started: Mapping[str, str], expected: Callable[[], verification.Expected] | None = None
) -> None:
    """Verify the containers `started` (service → id, judged running moments ago by `deploy.steps.startup`),
    their configuration against the environment compose up just ran with (`expected`: the release's side, read
    ahead: `verification.ahead`).

    The report is kept in the trail (the last one: what runs when the attempt ends). The state
    after is captured meanwhile (both only read), for the report of a success.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        after = pool.submit(snapshot.capture, d.settings, d.engine, d.records)
        healthy = frozenset(started.values())
        found = verification.verify(d.settings, d.engine, d.repo, d.environ, healthy, started, expected)
        d.trail.verified(found, captured(after))
    if not found.ok:
        raise verify_failed(found.release, found.summary())


def keep_evidence(d: Deployment, image_id: str) -> list[Evidence]:
    """Keep (in the trail) and say what the containers of `image_id` wrote last and how they ended."""
    return _kept(d, evidence.of_image(d.settings, d.engine, image_id))


def keep_evidence_of(d: Deployment, ids: Iterable[str]) -> list[Evidence]:
    """`keep_evidence` of the containers `ids`."""
    return _kept(d, evidence.of_containers(d.engine, ids))


def _kept(d: Deployment, found: list[Evidence]) -> list[Evidence]:
    if found:
        d.trail.evidence.extend(found)
        d.say(evidence.text(found))
    return found


def with_last_words(cause: str, found: list[Evidence]) -> str:
    words = evidence.last_words(found)
    return f"{cause}; {words}" if words else cause
