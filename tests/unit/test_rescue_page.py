"""Rescue page: a window without missions says when the last one was and links to the month that holds it."""

from __future__ import annotations

import datetime as dt
import importlib
import json

import pandas as pd

from base.settings import load_settings
from dashboard.app import create_app


def test_rescue_empty_window_points_to_the_last_mission(tmp_path):
    create_app(load_settings({}, database_url=f"sqlite:///{tmp_path}/empty.db", demo=False))   # registers the pages
    page = importlib.import_module("pages.rescue")
    assert page.window_of(dt.date(2026, 9, 14), dt.date(2026, 12, 2)) == (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    assert page.window_of(dt.date(2026, 12, 1), dt.date(2026, 12, 2)) == (dt.date(2026, 12, 1), dt.date(2026, 12, 2))
    last = {"mission_id": 12, "requested_at": pd.Timestamp("2026-09-14 15:02"), "day": dt.date(2026, 9, 14),
            "district_adcode": "350602"}
    note = json.dumps(page.last_mission_note(last, "芗城区", "?city=350600&range=30d", "zh", dt.date(2026, 12, 2))
                      .to_plotly_json(), default=lambda o: o.to_plotly_json(), ensure_ascii=False)
    assert "最近一次任务：2026-09-14 15:02（芗城区，#12）" in note
    assert "/rescue?city=350600&start=2026-09-01&end=2026-09-30" in note and "range=" not in note
    never = json.dumps(page.last_mission_note(None, "", "", "zh", dt.date(2026, 12, 2)).to_plotly_json(),
                       ensure_ascii=False)
    assert "此前也没有任何任务记录" in never
