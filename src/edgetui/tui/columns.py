"""Choose which fleet table columns fit the terminal, and how wide each one is.

Name and status are always shown. The other columns are dropped one by one,
least useful first, until the rest fit at their minimum widths. Any space left
then widens columns towards their content, name first.

The telemetry columns (alert marker and two sparklines) are shown only once the
fleet has telemetry, so a console without it keeps the columns it had.
"""

from dataclasses import dataclass

CELL_PADDING = 1
"""Blank cells on each side of a column, as in Textual's DataTable default."""


@dataclass(frozen=True)
class ColumnSpec:
    """One fleet table column: its key, header label and width limits."""

    key: str
    label: str
    max_width: int
    min_width: int
    drop_order: int | None
    """Rank in which the column is dropped when space runs out (1 first), None for never."""


COLUMNS = (
    ColumnSpec("name", "name", 24, 20, None),
    ColumnSpec("status", "status", 24, 16, None),
    ColumnSpec("last_seen", "last seen", 9, 9, 7),
    ColumnSpec("board", "board", 26, 14, 6),
    ColumnSpec("arch", "arch", 8, 7, 4),
    ColumnSpec("cores", "cores", 5, 5, 3),
    ColumnSpec("memory", "memory", 9, 8, 2),
    ColumnSpec("accelerators", "accelerators", 22, 12, 5),
    ColumnSpec("release", "release", 12, 7, 1),
)
"""Every column without telemetry, in display order.

When space is short, release goes first, then memory, cores and arch, because
for choosing where a model runs the accelerators matter more, and the board
usually implies the arch (which the filter still matches with arch=).
"""

TELEMETRY_COLUMNS = (
    ColumnSpec("alert", "alert", 5, 5, None),
    ColumnSpec("p95", "p95 latency", 30, 11, 9),
    ColumnSpec("error_rate", "errors", 30, 8, 8),
)
"""Columns shown only while the fleet has telemetry, placed after status.

The sparklines outlast every fact column, because a console that streams
telemetry is watched for them, and the alert marker is never dropped.
"""

SPARKLINE_COLUMNS = frozenset({"p95", "error_rate"})
"""Columns whose cells are sparklines; a narrow column draws the max of each group of samples per cell."""

LABELS = {spec.key: spec.label for spec in (*COLUMNS, *TELEMETRY_COLUMNS)}
"""Header label of each column key."""

WIDEN_ORDER = ("name", "status", "p95", "error_rate", "board", "accelerators", "last_seen", "arch", "memory",
               "cores", "release")
"""Columns in the order in which spare space widens them."""


def fit_columns(content_widths: dict[str, int], available: int,
                telemetry: bool = False) -> list[tuple[ColumnSpec, int]]:
    """Return the columns to show with their widths, so the total fits ``available`` cells.

    ``content_widths`` gives the widest cell text of each column key. When even
    name and status do not fit at their minimum widths, the result is wider than
    ``available`` and the table scrolls sideways. The TELEMETRY_COLUMNS take
    part only when ``telemetry`` is true.
    """
    columns = list(COLUMNS)
    if telemetry:
        columns[2:2] = TELEMETRY_COLUMNS
    natural = {
        spec.key: max(len(spec.label), min(content_widths.get(spec.key, 0), spec.max_width))
        for spec in columns
    }
    minimum = {spec.key: min(natural[spec.key], max(spec.min_width, len(spec.label)))
               for spec in columns}
    shown = _columns_that_fit(columns, minimum, available)

    widths = {spec.key: minimum[spec.key] for spec in shown}
    spare = available - _total(widths)
    for key in WIDEN_ORDER:
        if key in widths and spare > 0:
            extra = min(spare, natural[key] - widths[key])
            widths[key] += extra
            spare -= extra
    return [(spec, widths[spec.key]) for spec in shown]


def _columns_that_fit(columns: list[ColumnSpec], minimum: dict[str, int], available: int) -> list[ColumnSpec]:
    """Drop columns by rank until the rest fit at their minimum widths."""
    shown = list(columns)
    droppable = sorted(
        (spec for spec in columns if spec.drop_order is not None),
        key=lambda spec: spec.drop_order,
    )
    while droppable and _total({spec.key: minimum[spec.key] for spec in shown}) > available:
        shown.remove(droppable.pop(0))
    return shown


def _total(widths: dict[str, int]) -> int:
    """Return the cells that columns of ``widths`` take, padding included."""
    return sum(width + 2 * CELL_PADDING for width in widths.values())
