"""Drawing the digest's chart with matplotlib: the Agg canvas and the object API (`Figure`),
never pyplot, so no global state and any thread may draw.

Above, the irritants reported and resolved each week (bars); below, the pulse mean on its 1–5
scale and eNPS on its −100..100 scale (lines, a hidden week is a gap). On a Monday the same
frame (title, legends, week labels, scales) is drawn for every team with other data, and a
full draw costs a tenth of a second, most of it text. So `png` keeps per thread the frame of
the last weeks and languages drawn, rendered once, and draws only the data over a copy of it
(blitting): a chart then costs a few milliseconds and its PNG encoding.
"""

from __future__ import annotations

import io
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imsave
from matplotlib.ticker import FixedLocator, MaxNLocator

from bot.shared.i18n import N_, translate

if TYPE_CHECKING:
    from matplotlib.backends._backend_agg import BufferRegion

    from bot.digests.series import Series
    from bot.digests.weeks import Week

# The chart's words (bot/locale holds the French).
TITLE = N_("The last 12 weeks")
OPENED = N_("Irritants reported")
RESOLVED = N_("Irritants resolved")
PULSE_MEAN = N_("Pulse mean (1–5)")
ENPS = N_("eNPS (−100 to 100)")
NO_PULSE = N_("No pulse figure may be shown for these weeks")
WEEK_LABEL = N_("W%(number)02d")  # a week's tick: "W50"; "S50" in French

OPENED_COLOUR, RESOLVED_COLOUR = "#e07b39", "#3a8f5c"
PULSE_COLOUR, ENPS_COLOUR = "#3b6fb6", "#8e5bb0"
SIZE, DPI = (6.4, 4.2), 100  # 640 x 420 pixels: readable in Slack, quick to draw
KEPT_FRAMES = 4  # per thread: a Monday draws one week in two languages


class Chart:
    """One figure: its frame (what depends only on the language and the weeks) and the
    artists that show a series. With `blit`, the frame is rendered once and kept."""

    def __init__(self, locale: str, weeks: Sequence[Week], *, blit: bool = False):
        def say(text: str) -> str:
            return translate(locale, text)

        self.figure = fig = Figure(figsize=SIZE, dpi=DPI)
        self.canvas = FigureCanvasAgg(fig)
        fig.suptitle(say(TITLE), fontsize=11, y=0.97)
        x = list(range(len(weeks)))
        limits = (-0.6, len(weeks) - 0.4)
        self.bars = bars = fig.add_axes((0.08, 0.56, 0.82, 0.31))
        self.opened = bars.bar([i - 0.2 for i in x], 0, 0.4, color=OPENED_COLOUR, label=say(OPENED))
        self.resolved = bars.bar(
            [i + 0.2 for i in x], 0, 0.4, color=RESOLVED_COLOUR, label=say(RESOLVED)
        )
        bars.set_xlim(*limits)
        bars.set_xticks([])
        bars.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        bars.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=2, frameon=False, fontsize=8)

        self.lines = lines = fig.add_axes((0.08, 0.08, 0.82, 0.33))
        lines.set_xlim(*limits)
        lines.set_xticks(x, [translate(locale, WEEK_LABEL, number=w.number) for w in weeks])
        (self.mean,) = lines.plot(x, [math.nan] * len(x), "o-", color=PULSE_COLOUR, ms=4)
        lines.set_ylim(0.8, 5.2)
        lines.yaxis.set_major_locator(FixedLocator([1, 2, 3, 4, 5]))
        lines.set_ylabel(say(PULSE_MEAN), fontsize=8, color=PULSE_COLOUR)
        score = lines.twinx()
        (self.score,) = score.plot(x, [math.nan] * len(x), "s--", color=ENPS_COLOUR, ms=4)
        score.set_ylim(-110, 110)
        score.yaxis.set_major_locator(FixedLocator([-100, -50, 0, 50, 100]))
        score.set_ylabel(say(ENPS), fontsize=8, color=ENPS_COLOUR)
        lines.legend(
            [self.mean, self.score],
            [say(PULSE_MEAN), say(ENPS)],
            loc="lower left",
            bbox_to_anchor=(0, 1),
            ncols=2,
            frameon=False,
            fontsize=8,
        )
        self.note = lines.text(
            0.5, 0.5, say(NO_PULSE), ha="center", va="center", fontsize=8, color="#666666",
            transform=lines.transAxes,
        )  # fmt: skip
        for axes in (bars, lines, score):
            axes.tick_params(labelsize=8)

        # What changes from one series to the next, drawn in this order over the frame (the
        # bottom spine again over the bars' feet).
        self.data: list[Artist] = [
            bars.yaxis,
            *self.opened.patches,
            *self.resolved.patches,
            bars.spines["bottom"],
            self.mean,
            self.score,
            self.note,
        ]
        self.frame: BufferRegion | None = None
        if blit:
            for artist in self.data:
                artist.set_animated(True)
            self.canvas.draw()
            self.frame = self.canvas.copy_from_bbox(fig.bbox)

    def show(self, series: Series) -> Figure:
        """Put `series` in the figure's artists."""
        for bar, height in zip(self.opened.patches, series.opened, strict=True):
            bar.set_height(height)
        for bar, height in zip(self.resolved.patches, series.resolved, strict=True):
            bar.set_height(height)
        self.bars.set_ylim(0, max([1, *series.opened, *series.resolved]) * 1.1)
        self.mean.set_ydata(_gaps(series.pulse_mean))
        self.score.set_ydata(_gaps(series.enps))
        self.note.set_visible(all(v is None for v in (*series.pulse_mean, *series.enps)))
        return self.figure

    def png(self, series: Series) -> bytes:
        """The PNG of `series`: a full draw, or the data over the kept frame."""
        self.show(series)
        if self.frame is None:
            self.canvas.draw()
        else:
            self.canvas.restore_region(self.frame)
            for artist in self.data:
                artist.axes.draw_artist(artist)
        buffer = io.BytesIO()
        # Level 1: a few kilobytes more than the default, in half the time.
        imsave(buffer, np.asarray(self.canvas.buffer_rgba()), format="png",
               pil_kwargs={"compress_level": 1})  # fmt: skip
        return buffer.getvalue()


def _gaps(values: Sequence[float | None]) -> list[float]:
    return [math.nan if value is None else float(value) for value in values]


def figure(series: Series, locale: str) -> Figure:
    """The chart as a complete matplotlib Figure (for tests, or to save in another format)."""
    return Chart(locale, series.weeks).show(series)


_frames = threading.local()


def png(series: Series, locale: str) -> bytes:
    """The chart's PNG, drawn over this thread's kept frame for these weeks and language."""
    kept: OrderedDict[tuple[str, tuple[Week, ...]], Chart] | None = getattr(_frames, "kept", None)
    if kept is None:
        kept = _frames.kept = OrderedDict()
    key = (locale, tuple(series.weeks))
    chart = kept.pop(key, None) or Chart(locale, series.weeks, blit=True)
    kept[key] = chart
    while len(kept) > KEPT_FRAMES:
        kept.popitem(last=False)
    return chart.png(series)
