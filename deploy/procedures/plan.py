"""`--plan`: what a deploy, rollback or restore would do, changing nothing.

A plan is the live state (`deploy.steps.snapshot`, captured read-only), the steps taken
from the same list the procedure walks (`procedure.plan_lines`: never a separate
narration), the checks that would stop it, and the way back when a step fails
(again the steps that recovery walks). It is rendered from `templates/plan.txt.j2`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from deploy.output.render import template
from deploy.procedures.procedure import Step, plan_lines
from deploy.steps.snapshot import Snapshot


@dataclass(frozen=True)
class Plan:
    event: str
    target: str  # what it acts on, e.g. "of 1a2b3c4d5e6f (image 0f1e2d3c4b5a)"
    live: Snapshot
    steps: tuple[Step, ...]
    stops: tuple[str, ...]  # checks that stop it, and what then is (not) changed
    recovery: tuple[str, ...]  # what a failed step sets off, step by step


def recovery_lines(first: str, steps: Iterable[Step]) -> tuple[str, ...]:
    """`first`, then the recovery's steps as the plan names them."""
    return (first, *plan_lines(steps))


def render(plan: Plan) -> str:
    lines = plan_lines(plan.steps)
    return template(
        "plan.txt.j2",
        event=plan.event,
        target=plan.target,
        s=plan.live,
        steps=lines,
        stops=plan.stops,
        recovery=plan.recovery,
    )
