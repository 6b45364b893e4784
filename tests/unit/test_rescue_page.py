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
    within = json.dumps(page.last_mission_note(last, "芗城区", "", "zh", dt.date(2026, 12, 2), empty=False)
                        .to_plotly_json(), ensure_ascii=False)
    assert "最近一次任务：2026-09-14 15:02（芗城区，#12）" in within and "没有" not in within and "href" not in within


def test_rescue_page_callback_says_so_for_a_window_without_missions(tmp_path):
    from sqlalchemy import func, select

    from data_access.cache import QueryCache
    from data_access.db import Database
    from data_access.demo.build import build_demo
    from data_access.models import RescueMission
    from data_access.timeutil import utcnow
    from tests.signin import signed_in_client

    db = Database(f"sqlite:///{tmp_path}/demo.db", QueryCache.from_url("simple"))
    build_demo(db, scale=0.01, cities=("350600",), end=utcnow())       # the whole history: missions are rare
    with db.session() as session:
        days = set(session.execute(select(RescueMission.local_day).where(RescueMission.city_adcode == "350600"))
                   .scalars())
        newest = session.execute(select(func.max(RescueMission.local_day))).scalar()
    assert days, "the demo holds missions"
    quiet = next(newest + dt.timedelta(days=n) for n in range(1, 60) if newest + dt.timedelta(days=n) not in days)
    app = create_app(load_settings({}, database_url=db.url, demo=False), db, refresh_ms=3_600_000)
    client = signed_in_client(app)
    assert client.get("/rescue").status_code == 200
    key = next(k for k in app.callback_map if "rescue-problems.children" in k)
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in key[2:-2].split("...")]
    search = f"?city=350600&start={quiet}&end={quiet}"
    answer = client.post("/_dash-update-component", json={
        "output": key, "outputs": outputs, "changedPropIds": ["app-url.search"],
        "inputs": [{"id": "app-url", "property": "search", "value": search},
                   {"id": "app-refresh", "property": "n_intervals", "value": None}]}).get_json()["response"]
    note = json.dumps(answer["rescue-problems"], ensure_ascii=False)
    assert f"最近一次任务：{newest.isoformat()}" in note                   # the newest mission before the window
    month = (newest.replace(day=1).isoformat(), f"end={newest.replace(day=1).isoformat()[:8]}")
    assert f"start={month[0]}" in note and month[1] in note              # a link to the month that holds it
    body = {"output": key, "outputs": outputs, "changedPropIds": ["app-url.search"],
            "inputs": [{"id": "app-url", "property": "search", "value": f"?city=350600&start={newest}&end={newest}"},
                       {"id": "app-refresh", "property": "n_intervals", "value": None}]}
    line = json.dumps(client.post("/_dash-update-component", json=body).get_json()["response"]["rescue-problems"],
                      ensure_ascii=False)
    assert f"最近一次任务：{newest.isoformat()}" in line and "没有" not in line     # a window with the mission
