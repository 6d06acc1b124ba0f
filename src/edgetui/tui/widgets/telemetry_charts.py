"""Three plotext charts of one device: latency p50/p95/p99, throughput and error rate over a time range."""

from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Horizontal, Vertical
from textual_plotext import PlotextPlot

from edgetui.tui.telemetry_series import ChartSeries, points, x_ticks, y_axis

LATENCY_LINES = (("p50", "success"), ("p95", "warning"), ("p99", "error"))
"""Latency series and the theme variable that colours each."""


SMALL_CHART_STEPS = 2
"""Steps between the y ticks of the 10-row throughput and error charts, which have room for about 6 plot rows."""


class TelemetryCharts(Vertical):
    """Latency over the full width, throughput and error rate side by side below it."""

    DEFAULT_CSS = """
    TelemetryCharts {
        height: auto;
    }
    TelemetryCharts #latency-chart {
        height: 12;
    }
    TelemetryCharts > Horizontal {
        height: 10;
    }
    TelemetryCharts > Horizontal > PlotextPlot {
        width: 1fr;
        height: 10;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._series: ChartSeries | None = None

    def compose(self) -> ComposeResult:
        """Lay out the three charts."""
        yield PlotextPlot(id="latency-chart")
        with Horizontal():
            yield PlotextPlot(id="throughput-chart")
            yield PlotextPlot(id="errors-chart")

    def on_mount(self) -> None:
        """Redraw the lines in the new colours when the theme changes."""
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._draw())
        self._draw()

    def show(self, series: ChartSeries) -> None:
        """Draw ``series``, replacing what the charts showed."""
        self._series = series
        self._draw()

    def _draw(self) -> None:
        """Redraw every chart from the kept series."""
        if not self.is_mounted or self._series is None:
            return
        series = self._series
        latency = self._start("#latency-chart", "latency ms", series)
        self._y_axis(latency, [*series.p50, *series.p95, *series.p99], steps=3)
        for name, variable in LATENCY_LINES:
            x, y = points(series.x, getattr(series, name))
            if x:
                latency.plt.plot(x, y, label=name, color=self._colour(variable), marker="braille")
        latency.refresh()

        throughput = self._start("#throughput-chart", "requests/s", series)
        self._y_axis(throughput, series.throughput, steps=SMALL_CHART_STEPS)
        x, y = points(series.x, series.throughput)
        if x:
            throughput.plt.plot(x, y, color=self._colour("primary"), marker="braille")
        throughput.refresh()

        errors = self._start("#errors-chart", "error rate %", series)
        # At least 0-5 %, the default alert level, so a few errors do not fill the chart; never above 100 %.
        self._y_axis(errors, series.error_percent, minimum_top=5.0, maximum_top=100.0, steps=SMALL_CHART_STEPS)
        x, y = points(series.x, series.error_percent)
        if x:
            errors.plt.plot(x, y, color=self._colour("error"), marker="braille")
        errors.refresh()

    def _start(self, selector: str, title: str, series: ChartSeries) -> PlotextPlot:
        """Clear one chart and give it its title and the range's x axis."""
        plot = self.query_one(selector, PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        span = series.time_range.seconds / series.time_range.unit_seconds
        plt.xlim(-span, 0)
        positions, labels = x_ticks(series.time_range)
        plt.xticks(positions, labels)
        return plot

    @staticmethod
    def _y_axis(plot: PlotextPlot, values: list[float | None], *, minimum_top: float = 1.0,
                maximum_top: float | None = None, steps: int) -> None:
        """Fix the chart's y axis from 0 to a round top with even ticks, so it never goes negative.

        NOTE: plotext puts each tick on the nearest text row. Ticks therefore stay evenly spaced only
        when the plot's rows divide by ``steps``, and few steps keep the rounding small.
        """
        top, ticks, labels = y_axis(values, minimum_top=minimum_top, maximum_top=maximum_top, steps=steps)
        plot.plt.ylim(0, top)
        plot.plt.yticks(ticks, labels)

    def _colour(self, variable: str) -> tuple[int, int, int]:
        """Return a theme variable's colour as RGB, which plotext accepts."""
        value = self.app.theme_variables.get(variable, "#808080")
        return Color.parse(value).rgb
