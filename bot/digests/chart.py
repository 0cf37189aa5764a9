"""The digest's chart: the last 12 weeks of a team (irritants opened and resolved, the pulse
mean, eNPS), drawn as a PNG with matplotlib.

INTERFACE: `weekly_series` and `png` are what the schedule, the preview, the demo and
bench/digest.py call. The series is read in bot/digests/series.py (the anonymity rules, the
window), the picture drawn in bot/digests/plot.py.
"""

from __future__ import annotations

from bot.digests.series import WEEKS, Series, weekly_series, window

__all__ = ["WEEKS", "Series", "png", "weekly_series", "window"]


def png(series: Series, locale: str) -> bytes | None:
    """The chart as PNG bytes, its text in `locale`; None when there is nothing to draw."""
    if not series.weeks or series.empty:
        return None
    from bot.digests import plot  # matplotlib loads when a chart is drawn, not at start-up

    return plot.png(series, locale)
