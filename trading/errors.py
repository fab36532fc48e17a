"""Named errors of the bot, each carrying the data an operator needs.

    TradingError                      base; ``exit_code`` tells the CLI how to end
    ├── StateError                    the state document cannot be used (exit 3)
    │   ├── CorruptStateError         one copy is unreadable, fails its checksum or its shape
    │   ├── NoValidStateError         neither primary nor any backup is valid
    │   ├── StateTooNewError          written by newer code; refused, never overwritten
    │   ├── StateWriteError           a save failed (ENOSPC, EIO); the primary is untouched
    │   ├── VolumeFullError           the state volume is full: a command could not be enqueued
    │   ├── InvalidStateError         the state to save breaks the document's shape or numbers; not written
    │   ├── MigrationError            a legacy document cannot be brought to the current shape; not changed
    │   └── MergeError                memory could not be merged with what another process saved; not written
    ├── LockUnsafeError               ``flock`` does not exclude between processes here (exit 6)
    ├── RoleLockHeldError             another bot trades (worker applies commands) on this state (exit 4)
    ├── UnhealthyError                the heartbeat is missing, stale or its process is gone (exit 5)
    ├── SettingsError                 a TRADEBOT_* setting is malformed (exit 9)
    └── CommandError                  a command failed; ``code`` is machine-readable (exit 7)
        └── ValidationError           a payload is malformed; nothing was mutated

Messages say what is wrong and what to do next.
"""

from __future__ import annotations

from pathlib import Path


class TradingError(Exception):
    exit_code = 1


class StateError(TradingError):
    exit_code = 3


class CorruptStateError(StateError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"State document is corrupt: {reason}. The store falls back to the newest valid backup.")


class NoValidStateError(StateError):
    def __init__(self, path: Path, tried: list[str]) -> None:
        self.path, self.tried = path, tried
        detail = "; ".join(tried) or "no state file and no backups"
        super().__init__(
            f"No valid state at {path} ({detail}). Nothing was overwritten; restore a backup into place, "
            "or start the bot with --fresh to begin a new state on purpose."
        )


class StateTooNewError(StateError):
    def __init__(self, path: Path | str, found: int, supported: int) -> None:
        self.path, self.found, self.supported = path, found, supported
        super().__init__(
            f"{path} has schema version {found}, this code supports up to {supported}. "
            "Refusing to read or overwrite it; deploy the newer code that wrote it."
        )


class StateWriteError(StateError):
    def __init__(self, path: Path, cause: OSError) -> None:
        self.path, self.cause = path, cause
        super().__init__(
            f"Could not save {path}: {cause.strerror or cause} (errno {cause.errno}). "
            "The previous state is untouched; free space or fix the volume, then retry."
        )


class VolumeFullError(StateError):
    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(f"Command not enqueued: {why}. Free space on the state volume, then submit it again.")


class InvalidStateError(StateError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"Refusing to save a state that would not load again: {reason}. Nothing was written; "
            "the previous state stays in place. This is a bug in the code that changed the state: report it."
        )


class MigrationError(StateError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"The legacy state cannot be migrated: {reason}. Nothing was changed; correct the legacy "
            "live_portfolio.json by hand (positions as an object by symbol), then start again."
        )


class MergeError(StateError):
    def __init__(self, source: str, cause: Exception) -> None:
        self.source, self.cause = source, cause
        super().__init__(
            f"Could not merge the state saved by another process (save source={source}): "
            f"{type(cause).__name__}: {cause}. Nothing was written; the bot keeps its memory and retries "
            "on its next save. If this repeats, run `python -m trading status` and restore a backup."
        )


class LockUnsafeError(TradingError):
    exit_code = 6

    def __init__(self, lock_path: Path) -> None:
        self.lock_path = lock_path
        super().__init__(
            f"flock on {lock_path} does not exclude another process; this mount cannot protect the state. "
            "Put the state directory on a local filesystem (a Docker named volume)."
        )


class RoleLockHeldError(TradingError):
    exit_code = 4

    def __init__(self, role: str, lock_path: Path, holder: str) -> None:
        self.role, self.lock_path, self.holder = role, lock_path, holder
        super().__init__(
            f"Another {role} holds {lock_path} ({holder or 'holder unknown'}); refusing to run beside it "
            f"(--no-wait). Stop the other {role} first, or start without --no-wait to stand by for it."
        )


class UnhealthyError(TradingError):
    exit_code = 5

    def __init__(self, role: str, reason: str) -> None:
        self.role, self.reason = role, reason
        super().__init__(f"{role} unhealthy: {reason}")


class SettingsError(TradingError):
    exit_code = 9

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"invalid settings: {'; '.join(problems)}. Fix or unset them; nothing was started.")


class CommandError(TradingError):
    exit_code = 7

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"{code}: {message}")


class ValidationError(CommandError):
    pass
