"""Choose which fleet table columns fit the terminal, and how wide each one is.

Name and status are always shown. The other columns are dropped one by one,
least useful first, until the rest fit at their minimum widths. Any space left
then widens columns towards their content, name first.
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
"""Every column in display order.

When space is short, release goes first, then memory, cores and arch, because
for choosing where a model runs the accelerators matter more, and the board
usually implies the arch (which the filter still matches with arch=).
"""

LABELS = {spec.key: spec.label for spec in COLUMNS}
"""Header label of each column key."""

WIDEN_ORDER = ("name", "status", "board", "accelerators", "last_seen", "arch", "memory",
               "cores", "release")
"""Columns in the order in which spare space widens them."""


def fit_columns(content_widths: dict[str, int], available: int) -> list[tuple[ColumnSpec, int]]:
    """Return the columns to show with their widths, so the total fits ``available`` cells.

    ``content_widths`` gives the widest cell text of each column key. When even
    name and status do not fit at their minimum widths, the result is wider than
    ``available`` and the table scrolls sideways.
    """
    natural = {
        spec.key: max(len(spec.label), min(content_widths.get(spec.key, 0), spec.max_width))
        for spec in COLUMNS
    }
    minimum = {spec.key: min(natural[spec.key], max(spec.min_width, len(spec.label)))
               for spec in COLUMNS}
    shown = _columns_that_fit(minimum, available)

    widths = {spec.key: minimum[spec.key] for spec in shown}
    spare = available - _total(widths)
    for key in WIDEN_ORDER:
        if key in widths and spare > 0:
            extra = min(spare, natural[key] - widths[key])
            widths[key] += extra
            spare -= extra
    return [(spec, widths[spec.key]) for spec in shown]


def _columns_that_fit(minimum: dict[str, int], available: int) -> list[ColumnSpec]:
    """Drop columns by rank until the rest fit at their minimum widths."""
    shown = list(COLUMNS)
    droppable = sorted(
        (spec for spec in COLUMNS if spec.drop_order is not None),
        key=lambda spec: spec.drop_order,
    )
    while droppable and _total({spec.key: minimum[spec.key] for spec in shown}) > available:
        shown.remove(droppable.pop(0))
    return shown


def _total(widths: dict[str, int]) -> int:
    """Return the cells that columns of ``widths`` take, padding included."""
    return sum(width + 2 * CELL_PADDING for width in widths.values())
