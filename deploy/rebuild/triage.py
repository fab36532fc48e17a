"""What a rebuild will do with each file of a legacy volume, decided before anything is touched.

    state, secret    carried into the state volume at `layout.target(path)`
    code             left behind (kept in the backup)
    unknown          left behind and reported, unless the operator keeps it (`--keep PATH`:
                     that file, or every unknown file below that directory)
    skipped          never carried, with the reason: a FIFO, socket or device (no data a copy could
                     carry; opening a FIFO blocks), a path the layout excludes (`[[exclude]]`), or
                     an SQLite database's `-wal`/`-shm`/`-journal` (what it holds goes with the
                     database, which is carried whole through SQLite's backup API)

Refused: a volume none of whose files is one `layout.look_for` names (`NotLegacy`), a `--keep`
that names no unknown file (`KeepNotFound`), two carried files landing on one path
(`TargetClash`). Pure functions only; `render` prints paths, sizes and short hashes — never a
secret's hash — through the templates `rebuild_files.txt.j2` and `rebuild_inventory.txt.j2`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from deploy.errors import KeepNotFound, NotLegacy, TargetClash, first_of
from deploy.output.render import template
from deploy.rebuild import inventory
from deploy.rebuild.inventory import Inventory, Item
from deploy.rebuild.layout import CODE, SECRET, STATE, UNKNOWN, Layout


@dataclass(frozen=True)
class Carried:
    item: Item
    to: str
    secret: bool


@dataclass(frozen=True)
class Skipped:
    item: Item
    reason: str


SPECIAL = {
    "fifo": "a FIFO (named pipe): it holds no data, and opening it to copy blocks",
    "socket": "a socket: it holds no data; the process that made it is gone",
    "char-device": "a device: it holds no data of the bot's",
    "block-device": "a device: it holds no data of the bot's",
    "other": "not a regular file, link or directory",
}


def skipped(item: Item, layout: Layout, found: Inventory) -> Skipped | None:
    """Why `item` is never carried, or None when it may be."""
    if item.kind in SPECIAL:
        return Skipped(item, SPECIAL[item.kind])
    database = inventory.database_of(item.path, found)
    if database is not None:
        return Skipped(item, f"part of the SQLite database {database}: it goes with it, read whole")
    reason = layout.excluded(item.path)
    return None if reason is None else Skipped(item, f"excluded by the layout: {reason}")


@dataclass(frozen=True)
class Plan:
    carried: tuple[Carried, ...]
    code: tuple[Item, ...]
    unknown: tuple[Item, ...]  # left behind
    kept: tuple[str, ...]  # unknown paths carried because the operator named them
    skipped: tuple[Skipped, ...] = ()  # never carried, each with its reason

    @property
    def carried_bytes(self) -> int:
        return inventory.total_size(c.item for c in self.carried)

    @property
    def code_bytes(self) -> int:
        return inventory.total_size(self.code)

    def expected(self, layout: Layout) -> Inventory:
        """The state volume once the plan is carried out, as the proof expects it: exactly the carried
        files (the runtime user's, secrets in secret mode) and their directories, nothing else."""
        owner = layout.state_volume
        dirs = {".", *(parent for c in self.carried for parent in parents(c.to))}
        expected = {d: Item(d, inventory.DIR, 0, owner.dir_mode, owner.uid, owner.gid, None) for d in dirs}
        for c in self.carried:
            mode = owner.secret_mode if c.secret else None
            expected[c.to] = inventory.carried_as(c.item, c.to, owner.uid, owner.gid, mode)
        return expected


def parents(path: str) -> list[str]:
    """`a/b/c` → `["a", "a/b"]`."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def kept_by(path: str, keep: Sequence[str]) -> bool:
    return any(path == k.strip("/") or path.startswith(k.strip("/") + "/") for k in keep)


def make(found: Inventory, layout: Layout, keep: Sequence[str] = ()) -> Plan:
    """The plan for the files `found` in a legacy volume; raises NotLegacy, KeepNotFound, TargetClash."""
    items = inventory.files(found)
    skips = tuple(s for s in (skipped(item, layout, found) for item in items) if s is not None)
    if not layout.looks_legacy(item.path for item in items):
        raise NotLegacy(
            f"the volume does not look like a legacy deployment: none of {', '.join(layout.look_for)} is in it",
            "name the volume the legacy bot kept its state in, or add its state files to volumes/layout.toml",
            looked_for=list(layout.look_for),
        )
    items = [item for item in items if item not in {s.item for s in skips}]
    classes = {item.path: layout.classify(item.path) for item in items}
    unknown = [item for item in items if classes[item.path] == UNKNOWN]
    for wanted in keep:
        if not any(kept_by(item.path, [wanted]) for item in unknown):
            names = [item.path for item in unknown]
            raise KeepNotFound(
                f"--keep {wanted} names no unknown file of the legacy volume",
                f"keep one of the unknown files: {first_of(names, 5)}"
                if names
                else "there are no unknown files; drop --keep",
                path=wanted,
                unknown=names,
            )
    kept = [item for item in unknown if kept_by(item.path, keep)]
    carried = [
        Carried(item, layout.target(item.path), classes[item.path] == SECRET and item.kind == inventory.FILE)
        for item in items
        if classes[item.path] in (STATE, SECRET) or item in kept
    ]
    _refuse_clashes(carried)
    code = tuple(item for item in items if classes[item.path] == CODE)
    return Plan(tuple(carried), code, tuple(i for i in unknown if i not in kept), tuple(i.path for i in kept), skips)


def _refuse_clashes(carried: Iterable[Carried]) -> None:
    seen: dict[str, str] = {}
    for c in carried:
        if c.to in seen:
            raise TargetClash(
                f"{seen[c.to]} and {c.item.path} would both land on {c.to} in the state volume",
                "drop one (--keep) or tell them apart in volumes/layout.toml (strip_prefixes)",
                target=c.to,
                sources=[seen[c.to], c.item.path],
            )
        seen[c.to] = c.item.path


def render(plan: Plan, volume: str, target: str) -> str:
    """What happens to each file (`templates/rebuild_files.txt.j2`)."""
    return template("rebuild_files.txt.j2", p=plan, volume=volume, target=target).rstrip("\n")


@dataclass(frozen=True)
class Listed:
    kind: str  # the layout's class
    item: Item
    shown: str  # its short hash, or "(secret)"


def listing(found: Inventory, layout: Layout) -> list[Listed]:
    """Every file with its class; a secret's hash is not shown."""
    listed = []
    for item in inventory.files(found):
        kind = layout.classify(item.path)
        listed.append(Listed(kind, item, "(secret)" if kind == SECRET else item.short()))
    return listed
