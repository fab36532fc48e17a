"""Which container of each service plays its part, and what every other one is (pure; `deploy.steps.roles` reads).

During a standby handover a service has two containers, and a container started by hand beside the live
one looks like one of the service too. Verify and status judge the live release's own container and name
every other one; none of them is "the first container the engine lists".

- The live release (`live_image`) is the `:live` image, except while another process's attempt is in
  progress (`Arriving`: it holds the deploy lock, its journal names the image it starts) and that
  image's containers only stand by: `:live` already names it, but the release of the ledger's last
  success still trades.
- Judged, per service (`cast`): the ids a procedure names (`chosen`); else, of the running containers of
  the live image, the one that trades (its stage past the lock, or no stage line in its log's tail), then
  the one with the stable name, then the oldest. No running container of the live image: the newest
  running one, whose image check then says whose release it runs.
- Every other running container is `BESIDE` the judged one, a finding (verify's `one running container`
  fails), unless it runs the arriving image and has not taken its lock (`ARRIVING`: the attempt's
  standby). Stopped containers are `STOPPED`: nothing runs in them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from deploy.ids import short
from trading import stages

LIVE = "live"
ARRIVING = "standby"
BESIDE = "beside"
STOPPED = "stopped"


@dataclass(frozen=True)
class Seen:
    """One container of the project as the engine shows it; `running`: listed as running (restarting and paused
    too); `stage`: its newest stage line (None: none seen)."""

    id: str
    name: str
    service: str
    image_id: str
    running: bool
    created: str
    stage: str | None = None


@dataclass(frozen=True)
class Arriving:
    """Another process's attempt in progress: the image it starts, and what it is (`the deploy of 3f2a… …`)."""

    image_id: str
    what: str


@dataclass(frozen=True)
class Role:
    seen: Seen
    role: str
    why: str = ""  # for every role but LIVE: what it is, in an operator's words


def trades(seen: Seen) -> bool:
    """Running and past its role lock (or saying no stage: a release before the protocol, or one long running)."""
    return seen.running and (seen.stage is None or stages.rank(seen.stage) >= stages.rank(stages.LOCKED))


def live_image(tagged: str, arriving: Arriving | None, last_success: str | None, seen: Iterable[Seen]) -> str:
    """The image of the release that runs: `tagged` (`:live`), or `last_success` while the attempt in
    progress that `tagged` names has not taken over yet."""
    if arriving is None or arriving.image_id != tagged or not last_success:
        return tagged
    took_over = any(s.image_id == tagged and trades(s) for s in seen)
    return tagged if took_over else last_success


def cast(
    seen: Sequence[Seen],
    live: str,
    stable: Mapping[str, str],
    arriving: Arriving | None = None,
    chosen: Mapping[str, str] | None = None,
) -> dict[str, list[Role]]:
    """Each service's containers with their roles, the judged one (LIVE) first. `stable`: service → stable name."""
    found: dict[str, list[Role]] = {}
    for service, name in stable.items():
        mine = [s for s in seen if s.service == service]
        judged = _judged(mine, live, name, arriving, (chosen or {}).get(service))
        others = [_other(s, judged, arriving) for s in mine if s is not judged]
        found[service] = ([Role(judged, LIVE)] if judged else []) + others
    return found


def _judged(mine: Sequence[Seen], live: str, stable: str, arriving: Arriving | None, chosen: str | None) -> Seen | None:
    running = [s for s in mine if s.running]
    if chosen is not None:
        return next((s for s in running if s.id == chosen), None)
    of_live = sorted((s for s in running if s.image_id == live), key=lambda s: s.created)
    if of_live:
        return sorted(of_live, key=lambda s: (not trades(s), s.name != stable))[0]
    unexpected = [s for s in running if not _arriving(s, arriving)]
    return max(unexpected or running, key=lambda s: s.created, default=None)


def _arriving(seen: Seen, arriving: Arriving | None) -> bool:
    return arriving is not None and seen.image_id == arriving.image_id and not trades(seen)


def _other(seen: Seen, judged: Seen | None, arriving: Arriving | None) -> Role:
    what = f"{seen.name} (image {short(seen.image_id)}, {_stage(seen)})"
    if not seen.running:
        return Role(seen, STOPPED, f"{what} is stopped")
    if arriving is not None and _arriving(seen, arriving):
        return Role(seen, ARRIVING, f"{what} stands by for {arriving.what}")
    if seen.stage in stages.WAITING:
        why = f"{what} stands by for the {seen.service} lock, and no deploy in progress started it"
    else:
        why = f"{what} runs beside {judged.name if judged else 'no container of the live release'}"
    return Role(seen, BESIDE, why)


def _stage(seen: Seen) -> str:
    return f"stage {seen.stage}" if seen.stage else "no stage line"


def beside(roles: Iterable[Role]) -> list[Role]:
    """The running containers that should not be there (not the judged one, not the attempt's standby)."""
    return [r for r in roles if r.role == BESIDE]


def judged(roles: Iterable[Role]) -> Seen | None:
    return next((r.seen for r in roles if r.role == LIVE), None)
