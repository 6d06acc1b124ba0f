"""A row-cursor DataTable whose list keys have ids and tooltips and move the cursor as lists do."""

from textual.binding import Binding
from textual.widgets import DataTable


class NavigableTable(DataTable):
    """A DataTable in which Home and End move the cursor to the first and last row.

    DataTable binds Home and End to the first and last column, which a row
    cursor has no use for. The bindings here also carry ids and tooltips, so
    the help screen lists them and a keymap can change them.
    """

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False, id="list.up", tooltip="Move to the row above"),
        Binding("down", "cursor_down", "Down", show=False, id="list.down", tooltip="Move to the row below"),
        Binding(
            "pageup",
            "page_up",
            "Page up",
            show=False,
            id="list.page-up",
            tooltip="Move the cursor one screen up",
        ),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            show=False,
            id="list.page-down",
            tooltip="Move the cursor one screen down",
        ),
        Binding(
            "home",
            "scroll_top",
            "First row",
            show=False,
            id="list.first-row",
            tooltip="Move the cursor to the first row",
        ),
        Binding(
            "end",
            "scroll_bottom",
            "Last row",
            show=False,
            id="list.last-row",
            tooltip="Move the cursor to the last row",
        ),
    ]

    def __init__(self, *, id: str | None = None, zebra_stripes: bool = True) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=zebra_stripes)
