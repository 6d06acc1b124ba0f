"""Two bar charts side by side: file size and laptop latency of each variant."""

from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Horizontal
from textual_plotext import PlotextPlot

from edgetui.artifacts.records import VariantRecord
from edgetui.tui.variant_rows import chart_values


class VariantChart(Horizontal):
    """Size in MB and p50 latency in ms per variant, as horizontal bars coloured from the theme."""

    DEFAULT_CSS = """
    VariantChart {
        height: 1fr;
    }
    VariantChart > PlotextPlot {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._variants: list[VariantRecord] = []

    def compose(self) -> ComposeResult:
        """Lay out the size chart and the latency chart."""
        yield PlotextPlot(id="size-chart")
        yield PlotextPlot(id="latency-chart")

    def on_mount(self) -> None:
        """Redraw the bars in the new colours when the theme changes."""
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._draw())
        self._draw()

    def show(self, variants: list[VariantRecord]) -> None:
        """Draw the bars of ``variants``; variants without a latency are left out."""
        self._variants = variants
        self._draw()

    def _draw(self) -> None:
        """Replace both charts' bars."""
        if not self.is_mounted:
            return
        labels, sizes, latencies = chart_values(self._variants)
        self._bars("#size-chart", "size MB", labels, sizes, "primary")
        self._bars("#latency-chart", "p50 ms (laptop)", labels, latencies, "accent")

    def _bars(self, selector: str, title: str, labels: list[str], values: list[float], variable: str) -> None:
        """Draw one chart's bars in the colour of the theme variable ``variable``."""
        plot = self.query_one(selector, PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        if labels:
            plt.bar(labels, values, orientation="horizontal", color=self._colour(variable), width=0.6)
        plot.refresh()

    def _colour(self, variable: str) -> tuple[int, int, int]:
        """Return a theme variable's colour as RGB, which plotext accepts."""
        value = self.app.theme_variables.get(variable, "#808080")
        return Color.parse(value).rgb
