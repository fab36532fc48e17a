"""The command worker: claim one command, check it, run its handler, record the outcome.

Audit trail per command: ``started``, ``<type>.started``, ``<type>.succeeded`` or
``<type>.failed``, ``result_written``.  A command that fails validation mutates nothing.

Nothing a command carries can kill the worker: the payload is parsed within limits
(``payloads.parse``), an unexpected exception in a handler fails that command
(``worker/handler_error``, traceback logged), and a command that workers already died in
``DEAD_LETTER_AFTER`` times is failed at once as ``worker/dead_letter``.  Commands a dead worker
held are claimed again after the lease (``recover``); one this worker could not finish because the
volume was full is given back as soon as there is room (``trading.volume``).  A command an earlier
run saved the effect of reports that first result (``replayed``), however often workers died in it
and even once expired.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from trading import applied, heartbeat, payloads
from trading.codedigest import imported_code
from trading.commandbus import DEAD_LETTER_AFTER, CommandBus
from trading.config import Settings
from trading.errors import CommandError, TradingError
from trading.handlers import HANDLERS, Job
from trading.signals import StopSignal
from trading.store.document import utcnow
from trading.store.persistence import StateStore
from trading.volume import Volume, is_full

log = logging.getLogger("trading.worker")
RECOVERIES_PER_LEASE = 4  # a dead worker's command runs again within 1.25 leases


class Worker:
    def __init__(self, settings: Settings, bus: CommandBus, store: StateStore) -> None:
        self.settings, self.bus, self.store = settings, bus, store
        self.worker_id = f"{heartbeat.this_host()}:{os.getpid()}"
        self.started_at, self.iterations = utcnow(), 0
        self.counts = {"succeeded": 0, "failed": 0}
        self.volume = Volume(settings.state_file, "worker", "runs no command")
        self.beater = heartbeat.Beater(settings.heartbeat_file("worker"), self.volume.failed)
        self.held: int | None = None

    def run(self, stop: StopSignal, max_iterations: int | None = None) -> None:
        next_recovery = 0.0
        while not stop.stopping and (max_iterations is None or self.iterations < max_iterations):
            recover = time.monotonic() >= next_recovery
            worked = self.poll(recover)
            if recover:
                next_recovery = time.monotonic() + self.settings.command_lease_seconds / RECOVERIES_PER_LEASE
            if not worked and (max_iterations is None or self.iterations < max_iterations):
                stop.wait(self.settings.worker_poll_seconds)

    def poll(self, recover: bool) -> bool:
        """One poll, unless the volume is full: a full volume is waited out, never the end of the worker."""
        if self.volume.wait():
            return self.idle()
        try:
            if self.held is not None:
                self.bus.release(self.held, self.worker_id, "the state volume was full")
                self.held = None
            if recover:
                self.recover()
            return self.step()
        except Exception as exc:
            if not self.volume.failed(exc):
                raise
            return self.idle()

    def idle(self) -> bool:
        self.iterations += 1
        self.beat()
        return False

    def recover(self) -> None:
        """Requeue commands a dead worker held beyond the lease (claimed or running); prune finished old ones."""
        settled = self.bus.recover_abandoned(self.settings.command_lease_seconds, time.time())
        if settled["requeued"] or settled["abandoned"]:
            log.warning("commands of a dead worker requeued: claimed %s, running %s", *settled.values())
        pruned = self.bus.prune_finished(time.time() - self.settings.command_retention_seconds)
        if pruned:
            log.info("pruned %d finished commands older than %.0fs", pruned, self.settings.command_retention_seconds)

    def step(self) -> bool:
        """One poll: run at most one command; True when one ran."""
        command = self.bus.claim(self.worker_id)
        if command is not None:
            self.execute(command)
        self.iterations += 1
        self.beat()
        return command is not None

    def execute(self, command: dict[str, Any]) -> None:
        cid, kind = command["id"], command["type"]
        self.held = cid  # until its outcome is in the bus: a full volume gives it back (poll)
        self.bus.start(cid)
        self.bus.audit(cid, f"{kind}.started")
        try:
            result = self.handle(command)
        except CommandError as exc:
            self.fail(cid, kind, exc.code, str(exc))
        except TradingError as exc:
            if is_full(exc, self.settings.state_dir):
                raise
            self.fail(cid, kind, "state/unavailable", str(exc))
        except Exception as exc:  # a bug in a handler fails its command, never the worker
            log.exception("command %d %s: unexpected error in its handler", cid, kind)
            self.fail(cid, kind, "worker/handler_error", f"{type(exc).__name__}: {exc}")
        else:
            self.succeed(cid, kind, result)
        self.held = None

    def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        cid = command["id"]
        replayed = applied.recorded(self.store.load().state, cid) if self.bus.started_before(cid) else None
        if replayed is not None:  # an earlier run saved the effect: that is its outcome
            return replayed
        crashed = self.bus.crashes(cid)
        if crashed >= DEAD_LETTER_AFTER:
            raise CommandError(
                "worker/dead_letter",
                f"a worker died running this command {crashed} times; it will not run again. "
                "Check the payload; submit a corrected one.",
            )
        payload = payloads.parse(command["payload"])
        payloads.verify_envelope(payload, command["checksum"], command["expires_at"], time.time())
        fields = payloads.validate(command["type"], payload)
        job = Job(self.store, cid, self.bus.unfinished, self.settings.max_price_gap)
        return HANDLERS[command["type"]](job, fields)

    def succeed(self, cid: int, kind: str, result: dict[str, Any]) -> None:
        self.bus.audit(cid, f"{kind}.succeeded")
        self.bus.finish(cid, result, None)
        self.counts["succeeded"] += 1
        log.info("command %d %s succeeded", cid, kind)

    def fail(self, cid: int, kind: str, code: str, message: str) -> None:
        self.bus.audit(cid, f"{kind}.failed", {"code": code})
        self.bus.finish(cid, None, message if message.startswith(code) else f"{code}: {message}")
        self.counts["failed"] += 1
        log.warning("command %d %s failed: %s", cid, kind, message)

    def beat(self) -> None:
        coherence = {**vars(self.store.counters), "commands": dict(self.counts)}
        generation = self.store.last_generation
        beat = heartbeat.document("worker", self.started_at, self.iterations, generation, coherence, imported_code())
        self.beater.beat(beat)
