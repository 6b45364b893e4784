"""Calendar shapes of road accidents: weekdays, months, holidays, the 2020 epidemic, and hours of the day."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

# Spring Festival (春节, first day of the lunar year).
SPRING_FESTIVAL = {
    2016: dt.date(2016, 2, 8), 2017: dt.date(2017, 1, 28), 2018: dt.date(2018, 2, 16), 2019: dt.date(2019, 2, 5),
    2020: dt.date(2020, 1, 25), 2021: dt.date(2021, 2, 12), 2022: dt.date(2022, 2, 1), 2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17), 2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26), 2029: dt.date(2029, 2, 13), 2030: dt.date(2030, 2, 3),
}
SPRING_TRAVEL_BEFORE, SPRING_TRAVEL_AFTER = 15, 25        # 春运 runs 40 days around the festival
EPIDEMIC_START, EPIDEMIC_LOW_END, EPIDEMIC_END = dt.date(2020, 1, 24), dt.date(2020, 2, 20), dt.date(2020, 4, 30)
BACK_TO_WORK = (dt.date(2020, 2, 10), dt.date(2020, 4, 30))

WEEKDAY = np.array([1.00, 0.98, 0.98, 1.00, 1.08, 0.95, 0.86])          # Monday first
MONTH = np.array([0.98, 0.90, 0.97, 1.00, 1.01, 1.00, 1.03, 1.04, 1.00, 1.05, 1.02, 1.02])
# Accidents by local hour: a night low, the morning (7–9) and evening (17–19) rush hours.
HOUR = np.array([1.2, 0.8, 0.6, 0.5, 0.5, 0.8, 2.0, 5.2, 6.4, 5.0, 4.6, 4.6,
                 4.3, 4.2, 4.6, 4.9, 5.6, 6.8, 6.6, 5.0, 3.9, 3.1, 2.3, 1.7])
HOUR_P = HOUR / HOUR.sum()


def spring_festival(year: int) -> dt.date:
    return SPRING_FESTIVAL.get(year, dt.date(year, 2, 5))


def spring_travel(year: int) -> tuple[dt.date, dt.date]:
    day = spring_festival(year)
    return day - dt.timedelta(days=SPRING_TRAVEL_BEFORE), day + dt.timedelta(days=SPRING_TRAVEL_AFTER)


def days_between(start: dt.date, end_exclusive: dt.date) -> pd.DatetimeIndex:
    return pd.date_range(start, end_exclusive - dt.timedelta(days=1), freq="D")


def accident_day_weights(days: pd.DatetimeIndex) -> np.ndarray:
    """Relative accident volume of each day: weekday × month × holidays × the 2020 epidemic."""
    weights = WEEKDAY[days.day_of_week] * MONTH[days.month - 1]
    dates = days.date
    for year in sorted({d.year for d in dates} | {d.year + 1 for d in dates}):
        festival = spring_festival(year)
        for offset, factor in ((-2, 1.15), (-1, 0.9), (0, 0.55), (1, 0.6), (2, 0.7), (3, 0.8), (4, 0.9), (5, 1.05),
                               (6, 1.15)):
            weights[dates == festival + dt.timedelta(days=offset)] *= factor
        for day in range(1, 8):                              # National Day week: more trips, more scrapes
            weights[dates == dt.date(year, 10, day)] *= 1.12
    epidemic = (dates >= EPIDEMIC_START) & (dates <= EPIDEMIC_END)
    if epidemic.any():
        position = np.array([(d - EPIDEMIC_START).days for d in dates[epidemic]], dtype=float)
        low_days = (EPIDEMIC_LOW_END - EPIDEMIC_START).days
        recovery = (EPIDEMIC_END - EPIDEMIC_LOW_END).days
        factor = np.where(position <= low_days, 0.35, 0.35 + 0.65 * (position - low_days) / recovery)
        weights[epidemic] *= factor
    return weights


