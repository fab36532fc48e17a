"""The pipeline's named errors; `deploy.output.exitcodes.reported` turns them into output and exit codes.

Each error carries what went wrong (`message`), what to do next (`hint`), both written where it is
raised, and the facts they name (`data`: the container, the paths, the holder …); its place in the tree
decides the exit code (docs/interfaces.md lists them, a test keeps the two equal). A class has a body
only where code reads one of its fields.

TradebotError                   1  anything below not otherwise listed
├── CommandFailed               1  an external command exited non-zero (its stderr is read)
├── CommandTimedOut             1  an external command ran past its time and was killed
├── ConfigError                 2  a setting, an option, the security policy or the volume layout is malformed
│   ├── UnknownSetting             a TRADEBOT_* variable that is no declared setting
│   ├── FlagRefused                a flag of invoke's that the task cannot honour
│   └── FleetFileInvalid           fleet.toml is missing or malformed
├── EngineError                 3  the Docker engine or Compose cannot be used
│   ├── EngineUnreachable
│   │   └── MemberUnreachable      a fleet member's engine did not answer within its time
│   ├── ComposeMissing
│   └── ExecRefused                no command ran in a container: it is not running
│       └── CommandNotStarted      the container runs, but the command cannot start
├── GitError                    4  the repository cannot give what was asked
│   ├── NotARepository
│   ├── UnknownRevision
│   └── DirtyTree
├── Unavailable                 5  an image, a backup or a report asked for is missing or unusable
│   ├── ImageError                 a release or base image
│   │   ├── BuildFailed
│   │   ├── ImageMissing
│   │   ├── UnlabelledImage
│   │   ├── DirtyImage
│   │   ├── CodeLayerUncomputable
│   │   └── ForeignImage           carries release labels, but the pipeline never built it for that commit
│   ├── BackupMissing
│   └── ReportMissing
├── LockHeld                    6  another deploy holds the deploy lock
├── DeployError                 7  a deploy, rollback or restore did not reach a healthy, verified state
│   ├── StartFailed                a bot or worker did not start: it crashed, or made no progress
│   ├── RolledBack                 and the release from before runs again, verified
│   ├── FleetReleaseStopped        a fleet release stopped at a member (the ones after it untouched)
│   └── MoveFailed                 a fleet-move failed after the source stopped (it runs there again)
├── VerifyFailed                8  what runs is not exactly the commit
├── RebuildError                9  a legacy volume cannot be rebuilt or retired (nothing half-done is adopted)
│   ├── LegacyMissing
│   ├── NotLegacy
│   ├── VolumeInUse                a container but the rebuild's helpers mounts the legacy or the replaced state volume
│   │   └── LegacyWriters          the legacy bot's containers still exist (at deploy, rollback, restore, retire)
│   ├── KeepNotFound
│   ├── TargetClash
│   ├── TargetHoldsState
│   ├── CopyNotProven
│   ├── RebuildUnfinished
│   └── RetireRefused
├── PreflightFailed            10  the release cannot run as asked; nothing was stopped or changed
│   ├── ComposeFileInvalid
│   ├── SettingsInvalid
│   ├── StateVolumeMissing
│   ├── PolicyViolation
│   ├── SecondWriter               the state has another writer (a Swarm stack of its name, a container, another engine)
│   ├── MoveRefused                a fleet-move cannot start (nothing was stopped)
│   ├── DeploymentMoved            the deployment moved to another engine: not here any more
│   ├── BackupFailed               the state volume could not be backed up
│   ├── StandbyFailed              the new release's bot or worker did not stand by: the old one never stopped
│   └── ForeignWriters             a container but the deployment's own mounts its state volume
├── RollbackFailed             11  a release failed and putting the one before back failed too: nothing verified runs
├── NotRecorded                12  the release is live and verified, but its ledger entry could not be written
└── OutputError                13  the output cannot be written (a closed stdout, an --out path)
"""

from __future__ import annotations

from collections.abc import Sequence


def first_of(items: Sequence[str], limit: int, sep: str = ", ") -> str:
    """The first `limit` items, and `…` when there are more."""
    return sep.join(items[:limit]) + (" …" if len(items) > limit else "")


class TradebotError(Exception):
    exit_code = 1

    def __init__(self, message: str, hint: str = "", **data: object) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.data = data

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class CommandFailed(TradebotError):
    """An external command exited non-zero; `stderr` is what it said (a caller may quote its last line)."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        tail = stderr.strip().splitlines()[-1] if stderr.strip() else "no output"
        super().__init__(
            f"`{' '.join(argv[:4])} …` exited {returncode}: {tail}", argv=list(argv), returncode=returncode
        )
        self.stderr = stderr


class CommandTimedOut(TradebotError):
    """An external command ran past its time and was killed."""


class ConfigError(TradebotError):
    """A setting, an option, the security policy or the volume layout is malformed."""

    exit_code = 2


class UnknownSetting(ConfigError):
    """A `TRADEBOT_*` variable of the environment that is no declared setting (a typo, or a setting gone)."""


class FlagRefused(ConfigError):
    """A flag of invoke's own that the task cannot honour (it would run for real)."""


class FleetFileInvalid(ConfigError):
    """fleet.toml is missing or malformed."""


class EngineError(TradebotError):
    """The Docker engine or Compose cannot be used."""

    exit_code = 3


class EngineUnreachable(EngineError):
    """No Docker engine answers at the address asked."""


class MemberUnreachable(EngineUnreachable):
    """A fleet member's engine did not answer within its time."""


class ComposeMissing(EngineError):
    """No Docker Compose v2 was found."""


class ExecRefused(EngineError):
    """No command ran in a container: it is not running (stopped, restarting, paused, gone)."""


class CommandNotStarted(ExecRefused):
    """The container runs, but the command cannot start in it (missing, not executable)."""


class GitError(TradebotError):
    """The repository cannot give what was asked."""

    exit_code = 4


class NotARepository(GitError):
    """The path is not a (non-bare) git repository."""


class UnknownRevision(GitError):
    """No commit (or no file at a commit) answers to the name asked."""


class DirtyTree(GitError):
    """The working tree has uncommitted changes where the build reads."""


class Unavailable(TradebotError):
    """An image, a backup or a report asked for is missing or unusable."""

    exit_code = 5


class ImageError(Unavailable):
    """A release or base image is missing or unusable."""


class BuildFailed(ImageError):
    """A step of the image build failed."""


class ImageMissing(ImageError):
    """The image asked for is not on the engine."""


class UnlabelledImage(ImageError):
    """The live image carries no release labels: no release of this pipeline."""


class DirtyImage(ImageError):
    """The image was built from a dirty working tree."""


class CodeLayerUncomputable(ImageError):
    """A code path the code layer computation cannot write."""


class ForeignImage(ImageError):
    """An image with release labels that the pipeline never built for that commit (no build record)."""


class BackupMissing(Unavailable):
    """No state backup of that name."""


class ReportMissing(Unavailable):
    """No release report (of that release)."""


class LockHeld(TradebotError):
    """Another deploy holds the deploy lock."""

    exit_code = 6


class DeployError(TradebotError):
    """A deploy, rollback or restore did not reach a healthy, verified state."""

    exit_code = 7


class StartFailed(DeployError):
    """A bot or worker did not start: it exited, or made no progress (by its stages and CPU) for too long."""


class RolledBack(DeployError):
    """A deploy failed and the release from before runs again, verified."""


class FleetReleaseStopped(DeployError):
    """A fleet release stopped at a member: that member rolled back by itself, the ones after it untouched."""


class MoveFailed(DeployError):
    """A fleet-move failed after the source stopped; the deployment runs on the source again (or says why not)."""


class VerifyFailed(TradebotError):
    """What runs is not exactly the commit."""

    exit_code = 8


class RebuildError(TradebotError):
    """A legacy volume cannot be rebuilt or retired; nothing half-done is adopted."""

    exit_code = 9


class LegacyMissing(RebuildError):
    """No volume of that name."""


class NotLegacy(RebuildError):
    """None of the state files the layout looks for is in the volume."""


class VolumeInUse(RebuildError):
    """Containers use a volume that must be still (`writers`: each named with its image and state)."""


class LegacyWriters(VolumeInUse):
    """Containers of the legacy bot (mounting the legacy volume, running or not) still exist."""


class KeepNotFound(RebuildError):
    """`--keep` names no unknown file."""


class TargetClash(RebuildError):
    """Two carried files would land on one path."""


class TargetHoldsState(RebuildError):
    """The state volume already holds state (and no `--force`)."""


class CopyNotProven(RebuildError):
    """A copy is not identical to what it copies."""


class RebuildUnfinished(RebuildError):
    """An interrupted rebuild: it must be run again before anything uses the state volume."""


class RetireRefused(RebuildError):
    """A condition for removing the legacy volume does not hold."""


class PreflightFailed(TradebotError):
    """The release cannot run as asked; nothing was stopped or changed."""

    exit_code = 10


class ComposeFileInvalid(PreflightFailed):
    """The commit's docker-compose.yml is missing, does not parse or lacks a service."""


class SettingsInvalid(PreflightFailed):
    """The release image refuses the runtime settings (`python -m trading check-config`)."""


class StateVolumeMissing(PreflightFailed):
    """The deployment released before, but its state volume is gone."""


class PolicyViolation(PreflightFailed):
    """The commit's compose file breaks the security policy."""


class SecondWriter(PreflightFailed):
    """The state has another writer: a Swarm stack of the same name, a container run by hand, another fleet engine."""


class MoveRefused(PreflightFailed):
    """A fleet-move cannot start: nothing live to move, the target is taken, or it lacks the base image."""


class DeploymentMoved(PreflightFailed):
    """The deployment moved to another engine (`invoke fleet-move`): deploying or restoring it here is refused."""


class BackupFailed(PreflightFailed):
    """The state volume could not be backed up before anything was stopped."""


class StandbyFailed(PreflightFailed):
    """The new release's bot or worker did not stand by beside the running ones; the running ones never stopped."""


class ForeignWriters(PreflightFailed):
    """A container but the deployment's own bot and worker mounts its state volume writable."""


class RollbackFailed(TradebotError):
    """A release failed and putting the release from before back failed too: nothing verified runs."""

    exit_code = 11


class NotRecorded(TradebotError):
    """The release is live and verified, but its ledger entry could not be written (the next command writes it)."""

    exit_code = 12


class OutputError(TradebotError):
    """The output cannot be written: stdout was closed, or an `--out` path is unusable or exists."""

    exit_code = 13
