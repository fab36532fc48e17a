"""The one way output is made from data: a template of `templates/` (package data) rendered with jinja2.

Plans, reports (Markdown and one self-contained HTML page, autoescaped), the status, verify and
ledger tables and the rebuild's tables all come from here. jinja2 is imported when something is
rendered, not by a command that only reads or writes records, or in a thread of its own while a command
waits on the engine before it renders (`warm`: a deploy, for the verify after it; jinja2's import and a
template's compiling cost ~0.08 s).
Filters every template may use: `short` (`deploy.ids.short`), `cell` (a Markdown table cell),
`ljust` (pad to a width), `settings` (runtime settings as `NAME=value, …`, secrets masked: `deploy.config.shown`).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from deploy import meanwhile
from deploy.config import shown
from deploy.ids import short

if TYPE_CHECKING:
    import jinja2


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("deploy.output", "templates"),
        autoescape=jinja2.select_autoescape(["html.j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["cell"] = lambda value: str(value).replace("|", "\\|").replace("\n", " ")
    environment.filters["short"] = short
    environment.filters["ljust"] = lambda value, width: str(value).ljust(width)
    environment.filters["settings"] = lambda values: "not recorded" if values is None else shown(values)
    return environment


def warm(*names: str) -> None:
    """Make the environment and compile the templates `names` in a thread of its own, now: what renders later
    finds them ready."""
    meanwhile.start("renderer", lambda: [_environment().get_template(name) for name in names])


def template(name: str, **context: Any) -> str:
    """The template `name` of `deploy/output/templates/` rendered with `context`."""
    return _environment().get_template(name).render(**context)


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as lines of left-aligned columns two spaces apart, each as wide as its widest cell (trailing blanks cut)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
