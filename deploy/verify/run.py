"""Verify: is what runs exactly what was committed?

The digest of `trading/` is computed independently at every point — the
commit (git blobs), the image label, the image's filesystem, the bot's and
the worker's live filesystems, and the code each process imported — and every
point is compared with the commit, file by file. The image's code layer is
compared with the layer computed from the commit alone (`provenance`). Each
running container is judged against the security policy (`policy`), its
configuration against the commit's compose file (`configuration`: the config-hash
label Compose wrote; `drift`: what `docker update` and `network connect` change under
that label), and its processes and filesystem (`deploy.verify.looks`). Reading is
parallel: the points are I/O-bound calls to the engine, and nothing is asked twice —
each container's code archive, heartbeat and processes (verify's side container,
`deploy.engine.scripts.inside`) are read once, for its points and its checks; what no
running container changes (the commit's side and the image's, `Expected`) is read once too,
by a deploy ahead of its switch (`ahead`), so its verify waits only on the containers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.images import Image

from deploy import meanwhile
from deploy.config import SERVICES, Settings
from deploy.engine import compose
from deploy.engine.client import compose_argv
from deploy.engine.runner import Runner
from deploy.errors import CodeLayerUncomputable, ImageMissing, UnlabelledImage
from deploy.output.render import template
from deploy.policy import compose_file
from deploy.policy.check import Check
from deploy.records import ledger
from deploy.records.view import Records
from deploy.steps import casting, images, roles
from deploy.verify import codecompare, configuration, deployment, drift, looks, points, provenance, reference
from deploy.verify.codecompare import Observation, PointResult

if TYPE_CHECKING:
    from deploy.engine.git import Repository  # GitPython: imported by whoever makes one


@dataclass(frozen=True)
class VerifyReport:
    release: str
    points: tuple[PointResult, ...]
    checks: tuple[Check, ...]
    head_ahead: int
    ran: tuple[str, ...] = ()  # what it was made of (`what_runs`); not part of the JSON

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.points) and all(c.ok for c in self.checks)

    def summary(self) -> str:
        """One line naming what differs (for error messages), or that all is equal."""
        if self.ok:
            return f"all {len(self.points)} points equal, all {len(self.checks)} checks pass"
        failed = [_point_line(p) for p in self.points if not p.ok]
        failed += [c.failure() for c in self.checks if not c.ok]
        return "; ".join(failed)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VerifyReport:
        """A report as `to_json` stored it (what it was made of, `ran`, is not stored)."""
        points = tuple(PointResult.from_json(point) for point in data.get("points") or ())
        checks = tuple(Check.from_json(check) for check in data.get("checks") or ())
        return cls(str(data["release"]), points, checks, int(data.get("head_ahead") or 0))

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "release": self.release,
            "head_ahead": self.head_ahead,
            "points": [p.to_json() for p in self.points],
            "checks": [c.to_json() for c in self.checks],
        }


def render(report: VerifyReport, verbose: bool = False) -> str:
    """Human output: the outcome last; what failed above it (differing files under their point), all with `verbose`."""
    return template("verify.txt.j2", r=report, verbose=verbose).rstrip("\n")


def output(report: VerifyReport, as_json: bool, verbose: bool = False) -> str:
    return json.dumps(report.to_json(), indent=2) if as_json else render(report, verbose)


def _point_line(point: PointResult) -> str:
    named = [str(d) for d in point.differences[:5]] + list(point.problems)
    more = f" and {len(point.differences) - 5} more" if len(point.differences) > 5 else ""
    return f"{point.name} differs ({', '.join(named)}{more})"


def live_image(settings: Settings, engine: docker.DockerClient) -> Image:
    try:
        return engine.images.get(settings.live_image)
    except docker.errors.ImageNotFound as exc:
        raise ImageMissing(
            f"image {settings.live_image} is not on the engine", "nothing is deployed yet; run `invoke deploy`"
        ) from exc


def release_of(settings: Settings, image: Image) -> str:
    commit = (image.labels or {}).get(images.REVISION)
    if not commit:
        raise UnlabelledImage(
            f"{settings.live_image} has no {images.REVISION} label, so it is not a release of this pipeline",
            "deploy a release built by `invoke build` (`invoke deploy`)",
        )
    return commit


def service_containers(settings: Settings, engine: docker.DockerClient) -> dict[str, list[Container]]:
    """The running containers of each service of the project."""
    found: dict[str, list[Container]] = {service: [] for service in SERVICES}
    for container in engine.containers.list(
        ignore_removed=True, filters={"label": f"{compose.PROJECT_LABEL}={settings.project}"}
    ):
        found.setdefault(container.labels.get(compose.SERVICE_LABEL, ""), []).append(container)
    return found


@dataclass(frozen=True)
class Expected:
    """What verify judges the release by that no running container changes: its commit's side and its image's.

    Read once: by a deploy while its new containers start (`ahead`), else by verify beside its looks at
    the containers. Nothing in it is read from a container, so reading it early proves the same.
    """

    image_id: str
    source: reference.Reference
    commit: PointResult  # the commit's own code (the reference of every code point)
    label: PointResult
    image: PointResult  # the code baked into the image
    layer: PointResult  # the image's code layer against the commit's
    around: tuple[PointResult, ...]  # the image as a whole (`deployment.points`)
    hashes: Mapping[str, str]  # each service's config-hash in the commit's compose file, for this deployment
    resolved: Mapping[str, Any]  # the commit's compose file as Compose resolves it (what drift compares)


def expect(
    settings: Settings,
    engine: docker.DockerClient,
    repo: Repository,
    image: Image,
    environ: Mapping[str, str] | None = None,
    views: Callable[[], compose_file.Views] | None = None,
    records: Records | None = None,
) -> Expected:
    """The commit's and the image's side of verifying `image` (`environ`: as in `verify`; `views`: the commit's
    compose file as an attempt's preflight resolved it, with the same environment, else it is resolved here;
    `records`: the command's (`deploy.records.view`), else they are read here)."""
    source = reference.of(settings, engine, repo, release_of(settings, image), image.id)  # git, else the record
    # the tree is exported here: GitPython's object reads are not safe from two threads (the code layer reads too)
    with source.trees() as committed, ThreadPoolExecutor(max_workers=4) as pool:
        deployed = pool.submit(_environ, settings, engine, image, environ)
        hashes = pool.submit(_hashes, settings, committed, deployed)
        resolved = pool.submit(_resolved, settings, committed, deployed, views)
        around = pool.submit(deployment.points, settings, engine, image, records)
        baked = pool.submit(points.read_image, engine, image, settings.project)
        layer = _code_layer(source, image)  # from git objects, here while the engine answers the rest
        label = points.read_label(image, images.CODE_DIGEST)
        return Expected(
            image.id,
            source,
            codecompare.reference_point(source.commit_point_name, source.code),
            codecompare.compare(source.code, label),
            codecompare.compare(source.code, baked.result()),
            layer,
            tuple(around.result()),
            hashes.result(),
            resolved.result(),
        )


def ahead(
    settings: Settings,
    engine: docker.DockerClient,
    repo: Repository,
    image_id: str,
    environ: Mapping[str, str],
    views: Callable[[], compose_file.Views] | None = None,
    records: Records | None = None,
) -> Callable[[], Expected]:
    """`expect` of image `image_id`, started now in a thread of its own; the call waits for it (and raises what
    it raised). A deploy starts it before its switch, and its verify takes it (`verify`'s `expected`)."""

    def read() -> Expected:
        with repo.another() as own:  # the deploy's thread reads git meanwhile when the attempt fails
            return expect(settings, engine, own, engine.images.get(image_id), environ, views, records)

    return meanwhile.start("verify-ahead", read)


def verify(
    settings: Settings,
    engine: docker.DockerClient,
    repo: Repository,
    environ: Mapping[str, str] | None = None,
    healthy: frozenset[str] = frozenset(),
    chosen: Mapping[str, str] | None = None,
    expected: Callable[[], Expected] | None = None,
) -> VerifyReport:
    """Compare every point with the live release's commit and check its containers.

    `environ`: the environment compose up just ran with (a deploy); else the shell's with the recorded settings.
    `healthy`: ids of containers whose health-check command passed moments ago (a deploy's wait): while the
    engine still says `starting`, those count as probed without running the probe again.
    `chosen`: each service's container a procedure started and judges, by id; else the live release's own
    (`deploy.steps.casting`), every other running container of the service named.
    `expected`: the release's side read ahead (`ahead`); read here when absent or of another image.
    """
    containers = service_containers(settings, engine)
    image, cast = _release(settings, engine, containers, chosen)
    judged = _judged(containers, cast)
    with ThreadPoolExecutor(max_workers=8) as pool:
        read = expected or pool.submit(expect, settings, engine, repo, image, environ).result
        reads = {s: looks.read(pool, engine, c, image.id, settings.project) for s, c in judged.items() if c}
        seen = _observe(pool, judged, reads)
        checked = [pool.submit(looks.judged, s, judged[s], cast[s], image.id, reads.get(s), healthy) for s in SERVICES]
        standbys = _standby_images(engine, cast)
        checked.append(pool.submit(deployment.checks, settings, engine, image, containers, standbys))
        release = read()
        if release.image_id != image.id:  # the live image changed since it was read ahead
            release = expect(settings, engine, repo, image, environ)
        results = [codecompare.compare(release.source.code, future.result()) for future in seen]
        found_checks = tuple(c for future in checked for c in future.result()) + tuple(_drift_checks(release, judged))
    labels = {s: (c.labels.get(compose.CONFIG_HASH_LABEL) if c else None) for s, c in judged.items()}
    config = configuration.point(release.hashes, labels)
    ran = what_runs(image, containers)
    points_found = (release.commit, release.label, release.image, *results, release.layer, config, *release.around)
    return VerifyReport(release.source.commit, points_found, found_checks, release.source.ahead, ran)


def _release(
    settings: Settings,
    engine: docker.DockerClient,
    containers: Mapping[str, list[Container]],
    chosen: Mapping[str, str] | None,
) -> tuple[Image, dict[str, list[casting.Role]]]:
    """The live release's image (`:live`, or the ledger's last success while another's attempt has not taken
    over yet) and each service's containers in their roles."""
    tagged = live_image(settings, engine)
    live, cast = roles.cast(settings, engine, tagged.id, _all(containers), chosen)
    return (tagged if live == tagged.id else engine.images.get(live)), cast  # a running container keeps its image


def _standby_images(engine: docker.DockerClient, cast: Mapping[str, list[casting.Role]]) -> dict[str, Image]:
    """The standbys of an attempt in progress (by id), each with its own image: the policy judges them by it."""
    standbys = [r.seen for found in cast.values() for r in found if r.role == casting.ARRIVING]
    images = {image_id: engine.images.get(image_id) for image_id in {s.image_id for s in standbys}}
    return {s.id: images[s.image_id] for s in standbys}


def _judged(
    containers: Mapping[str, list[Container]], cast: Mapping[str, list[casting.Role]]
) -> dict[str, Container | None]:
    """Each service's judged container (`casting.judged`), as the engine listed it."""
    by_id = {c.id: c for c in _all(containers)}
    found = {service: casting.judged(cast[service]) for service in SERVICES}
    return {service: by_id.get(seen.id) if seen else None for service, seen in found.items()}


def what_runs(image: Image, containers: Mapping[str, list[Container]]) -> tuple[str, ...]:
    """The live image and each running container (id, start, restarts): what a report was made of."""
    started = (f"{c.id} {c.attrs['State'].get('StartedAt')} {c.attrs.get('RestartCount', 0)}" for c in _all(containers))
    return (image.id, *sorted(started))


def _all(containers: Mapping[str, list[Container]]) -> list[Container]:
    return [container for found in containers.values() for container in found]


def still_runs(report: VerifyReport | None, settings: Settings, engine: docker.DockerClient) -> bool:
    """Whether `report` was made of what runs now: the same live image in the same containers, none restarted.

    One look at the engine, for `invoke build deploy verify`: its verify task reuses the report
    the deploy task made moments before in the same process instead of asking everything again.
    """
    if report is None:
        return False
    return what_runs(live_image(settings, engine), service_containers(settings, engine)) == report.ran


def _environ(
    settings: Settings, engine: docker.DockerClient, image: Image, environ: Mapping[str, str] | None
) -> Mapping[str, str]:
    """`environ` (a deploy's), else the shell's with the runtime settings the ledger recorded for the live image."""
    if environ is not None:
        return environ
    return configuration.deployed_environ(os.environ, ledger.read(settings, engine), image.id)


def _hashes(settings: Settings, committed: Path, environ: Future[Mapping[str, str]]) -> dict[str, str]:
    return configuration.computed(Runner(), compose_argv(settings), settings, committed, environ.result())


def _resolved(
    settings: Settings,
    committed: Path,
    environ: Future[Mapping[str, str]],
    views: Callable[[], compose_file.Views] | None = None,
) -> Mapping[str, Any]:
    """The commit's compose file as Compose resolves it: as `views` has it, else asked here."""
    if views is not None:
        return views().resolved
    argv = compose.config(compose_argv(settings), settings, committed)
    return json.loads(Runner().run(argv, env=compose.env(settings, environ.result())).stdout)


def _drift_checks(release: Expected, judged: Mapping[str, Container | None]) -> list[Check]:
    """What `docker update` or `network connect` changed in each service's container, against the commit's file."""
    services, networks = release.resolved.get("services") or {}, release.resolved.get("networks") or {}
    found = [(s, c) for s, c in judged.items() if c is not None and s in services]
    return [check for s, c in found for check in drift.checks(s, services[s], networks, c.attrs)]


def _code_layer(source: reference.Reference, image: Image) -> PointResult:
    try:
        expected = source.layer()
    except CodeLayerUncomputable as exc:
        return provenance.uncomputable_point(exc.message)
    declared = (image.labels or {}).get(images.CODE_LAYER)
    return provenance.code_layer_point(expected, image.attrs["RootFS"]["Layers"], declared)


def _observe(
    pool: ThreadPoolExecutor, judged: Mapping[str, Container | None], reads: dict[str, looks.Reads]
) -> list[Future[Observation]]:
    """The code each service's container sees, then the code each one's process says it imported."""
    code = {s: looks.result(r.code) for s, r in reads.items()}
    beat = {s: looks.result(r.beat) for s, r in reads.items()}
    observations: list[Callable[[], Observation]] = [
        lambda s=s: points.read_container(f"{s} container", judged[s], code.get(s)) for s in SERVICES
    ]
    observations += [lambda s=s: points.read_imported(f"{s} imported", judged[s], beat.get(s)) for s in SERVICES]
    return [pool.submit(observe) for observe in observations]
