"""The daily briefing: the day against the day before, a year before and the 7-day average, thin bases marked,
the district that rose most, SLAs missed, notable events, the narrative, and `jingbao briefing` in every format."""

from __future__ import annotations

import datetime as dt
import json
import struct
import subprocess

import numpy as np
import pytest

from components import briefing as sheet
from dashboard.cli import main
from data_access import registry
from data_access.briefing import briefing_report, daily_briefing, day_filters
from data_access.models import Severity
from data_access.rollups import rebuild_rollups
from services.briefing_render import PNG_SCALE
from tests.unit.handmade import CITY, D1, D2, case, empty_city, local, minutes, rescue

DAY = dt.date(2020, 6, 10)
BEFORE = DAY - dt.timedelta(days=1)


def _cases(day: dt.date, n: int, district: str = D1, quick_every: int = 0, **stages) -> list:
    return [case(local(day, 8 + i % 12, i % 60), district, quick_handled=bool(quick_every) and i % quick_every == 0,
                 **stages) for i in range(n)]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """The day: 40 alerts in 芗城区 (20 quick; 12 paid in 10 min, 28 in 60 min) and 5 in 龙文区, one major accident
    (23:00 in 龙文区, on scene 14 minutes later, the road not cleared yet) and one rescue. The day before: 30 + 1.
    The five days before that: 35 a day in 芗城区. A year before: 10."""
    db = empty_city(tmp_path_factory.mktemp("briefing"))
    rows = (_cases(DAY, 12, quick_every=2, paid_at=minutes(10)) + _cases(DAY, 28, quick_every=2, paid_at=minutes(60))
            + _cases(DAY, 4, D2) + [case(local(DAY, 23), D2, severity=Severity.MAJOR, on_scene_at=minutes(14))]
            + _cases(BEFORE, 30, quick_every=3) + _cases(BEFORE, 1, D2)
            + _cases(DAY.replace(year=2019), 10))
    for back in range(2, 8):
        rows += _cases(DAY - dt.timedelta(days=back), 35, quick_every=5)
    with db.transaction() as session:
        session.add_all(rows)
        session.add(rescue(local(DAY, 10, 5), minutes(45)))
    rebuild_rollups(db)
    return db


@pytest.fixture(scope="module")
def briefing(db):
    return daily_briefing(db, CITY, DAY)


def test_brf001_the_day_against_the_day_before_a_year_before_and_the_week(briefing):
    alerts = briefing.kpi("alerts")
    assert alerts.value == 45
    assert alerts.day_before.previous == 31
    assert alerts.day_before.change == pytest.approx(45 / 31 - 1)
    assert alerts.week_average.previous == pytest.approx((31 + 6 * 35) / 7)
    assert alerts.week_average.change == pytest.approx(45 / ((31 + 6 * 35) / 7) - 1)
    # a year before: 10 alerts, below the threshold, so marked instead of shown as a +350% swing
    assert alerts.year_before.previous == 10
    assert alerts.year_before.too_small and alerts.year_before.change is None
    rate = briefing.kpi("quick_rate")
    assert rate.value == pytest.approx(20 / 45)
    assert rate.day_before.change == pytest.approx(20 / 45 - 10 / 31)       # percentage points for a share


def test_brf002_figures_come_from_the_overview_metric_functions(db, briefing):
    yoy = registry.kpis(db, day_filters(CITY, DAY), registry.OVERVIEW)
    pop = registry.kpis(db, day_filters(CITY, DAY, comparison="pop"), registry.OVERVIEW)
    for kpi in briefing.kpis:
        assert kpi.value == yoy.get(kpi.key).value
        assert kpi.year_before == yoy.get(kpi.key)
        assert kpi.day_before == pop.get(kpi.key)


def test_brf003_district_that_rose_most_and_thin_district_bases(briefing):
    assert [(d.adcode, d.alerts, d.previous) for d in briefing.districts] == [(D1, 40, 30), (D2, 5, 1)]
    assert briefing.biggest_rise.adcode == D1
    assert briefing.districts[0].change == pytest.approx(40 / 30 - 1)
    assert briefing.districts[1].too_small and briefing.districts[1].change is None


def test_brf004_district_briefing_keeps_to_its_district(db):
    only = daily_briefing(db, CITY, DAY, (D2,))
    assert only.kpi("alerts").value == 5
    assert [d.adcode for d in only.districts] == [D2]


def test_brf005_payout_sla_missed_and_notable_events(briefing):
    sla = {s.key: s for s in briefing.slas}
    assert sla["payout_within_15m"].base == 40
    assert sla["payout_within_15m"].value == pytest.approx(12 / 40, abs=0.02)
    assert sla["payout_within_15m"].missed
    assert not sla["remote_sla_share"].missed          # no remote liability that day: nothing to miss
    assert briefing.major_accidents == 1
    assert len(briefing.rescues) == 1
    texts = sheet.events(briefing, "zh")
    assert any("空地救援" in line and "45" in line and "10:05" in line for line in texts)
    assert "23:00 龙文区 重大事故（110/122 报警，民警处置）：报警后 14 分钟到场，尚未恢复通行" in texts
    assert any("15 分钟内赔付占比" in line for line in texts)


def test_brf006_narrative_is_generated_from_the_numbers(briefing):
    zh = sheet.narrative(briefing, "zh")
    assert zh[0] == "当日交通事故警情 45 起，较前一日上升 45.2%。"
    assert "芗城区" in zh[2] and "+10" in zh[2]
    assert any(line.startswith("未达标：15 分钟内赔付占比") for line in zh)
    en = sheet.narrative(briefing, "en")
    assert en[0] == "45 accident alerts on the day, up 45.2% on the day before."
    assert en[2].startswith("Xiangcheng rose most")


def test_brf007_too_small_reads_as_such_not_as_a_swing(briefing):
    text = sheet.comparison_text(briefing.kpi("alerts").year_before, "en")
    assert text == "too small to compare (10)"
    assert "%" not in text


def test_brf008_empty_day_says_so(db):
    empty = daily_briefing(db, CITY, dt.date(2020, 1, 1))
    assert empty.kpi("alerts").value == 0
    assert sheet.narrative(empty, "zh") == ["当日没有数据。"]


def test_brf009_cli_json_equals_jingbao_kpis(db, monkeypatch, capsys):
    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    assert main(["briefing", "--date", DAY.isoformat(), "--city", CITY, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert main(["kpis", "--city", CITY, "--start", DAY.isoformat(), "--end", DAY.isoformat(),
                 "--format", "json"]) == 0
    kpis = json.loads(capsys.readouterr().out)["kpis"]
    assert set(report["kpis"]) == set(kpis)
    for key, item in kpis.items():
        assert report["kpis"][key]["value"] == item["value"]
        assert report["kpis"][key]["year_before"]["value"] == item["previous"]
        assert report["kpis"][key]["year_before"]["too_small_to_compare"] == item["too_small_to_compare"]
    assert report["kpis"]["alerts"]["value"] == 45
    assert report["events"]["major_accidents"] == 1
    assert report == json.loads(json.dumps(briefing_report(daily_briefing(db, CITY, DAY))))


def test_brf010_cli_markdown_and_bad_flags(db, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    out = tmp_path / "b.md"
    assert main(["briefing", "--date", DAY.isoformat(), "--city", CITY, "--format", "md", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# 漳州市 警保联动每日简报") and "| 交通事故警情 | 45 起 |" in text
    assert "基数过小 (10)" in text
    capsys.readouterr()
    assert main(["briefing", "--date", DAY.isoformat(), "--city", CITY, "--district", "110101", "--format", "md"]) == 2
    assert main(["briefing", "--date", DAY.isoformat(), "--city", CITY, "--format", "pdf"]) == 2
    assert main(["briefing", "--city", "500000", "--format", "json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["jingbao briefing: error: 110101 is not a district of 350600",
                   "jingbao briefing: error: --format pdf needs --out FILE",
                   "jingbao briefing: error: unknown city 500000"]


def test_brf011_cli_pdf_renders_with_chinese_text_and_png(db, monkeypatch, tmp_path):
    monkeypatch.setenv("JINGBAO_DATABASE_URL", db.url)
    pdf, png = tmp_path / "b.pdf", tmp_path / "b.png"
    assert main(["briefing", "--date", DAY.isoformat(), "--city", CITY, "--format", "pdf", "--out", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "Pages:           1" in subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "漳州市 警保联动每日简报" in words and "交通事故警情" in words and "芗城区" in words
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 20_000          # a drawn page, not a blank one
    assert main(["briefing", "--date", DAY.isoformat(), "--city", CITY, "--format", "png", "--lang", "en",
                 "--out", str(png)]) == 0
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (794 * PNG_SCALE, 1123 * PNG_SCALE)


def test_brf012_a_chart_kaleido_fails_to_draw_once_is_drawn_on_a_fresh_start(briefing, monkeypatch):
    """On a loaded machine kaleido can evaluate before its page has loaded; the sheet's charts still come out, and a
    chart that never draws is a RenderError naming kaleido, not a traceback."""
    from services import briefing_render

    calls = {"n": 0}

    def flaky(figures):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("ReferenceError: kaleido_scopes is not defined")
        return {name: b"\x89PNG drawn" for name in figures}

    monkeypatch.setattr(briefing_render, "_draw_all", flaky)
    images = briefing_render.chart_images(briefing, "zh")
    assert set(images) == set(sheet.figures(briefing, "zh")) and all(v == b"\x89PNG drawn" for v in images.values())
    assert calls["n"] == 2

    def broken(figures):
        raise RuntimeError("no browser")

    monkeypatch.setattr(briefing_render, "_draw_all", broken)
    with pytest.raises(briefing_render.RenderError, match="kaleido could not draw the charts: no browser"):
        briefing_render.chart_images(briefing, "zh")


def test_brf013_a_major_accident_is_told_with_its_time_place_and_what_happened(db, briefing):
    """"重大事故 1 起" said nothing: each major accident of the day is a line with its local time, its district, how it
    became known, who handled it and how far it got, read from the case itself; the JSON report carries the same."""
    majors = briefing.majors
    assert len(majors) == briefing.major_accidents == 1
    major = majors.iloc[0]
    assert (major.district_adcode, major.name_zh, major.channel, major.handled_by) == (D2, "龙文区", "police_call",
                                                                                       "police")
    assert major.reported_local == local(DAY, 23) + dt.timedelta(hours=8)       # stored UTC, told in Beijing time
    assert major.to_scene_min == pytest.approx(14) and np.isnan(major.cleared_min) and not major.rescue
    assert sheet.major_accident_lines(majors, "en") == [
        "23:00 Longwen: major accident (reported to 110/122, handled by the police); on scene 14 min after the "
        "report, road not cleared yet"]
    detail = briefing_report(briefing)["events"]["major_accident_details"]
    assert detail == [{"case_id": int(major.case_id), "district_adcode": D2, "reported_local": f"{DAY}T23:00",
                       "channel": "police_call", "handled_by": "police", "to_scene_min": 14.0, "cleared_min": None,
                       "rescue": False}]
    # a major accident cleared after two hours, for which a helicopter was called, says both
    cleared = majors.assign(cleared_min=128.0, rescue=True, handled_by="rider_team")
    assert sheet.major_accident_lines(cleared, "zh") == [
        "23:00 龙文区 重大事故（110/122 报警，快骑队处置）：报警后 14 分钟到场，报警后 2 小时 08 分恢复通行，"
        "已呼叫空地救援"]
    assert daily_briefing(db, CITY, DAY, (D1,)).majors.empty          # a district's briefing keeps to its district


def test_brf014_renders_queue_for_one_slot_and_a_long_wait_is_refused_not_piled_up(briefing, monkeypatch):
    import threading
    import time

    from services import briefing_render

    drawn = []
    monkeypatch.setattr(briefing_render, "chart_images", lambda *_: drawn.append(1) or {})
    monkeypatch.setattr(briefing_render.sheet, "sheet_html", lambda *_: "<html>briefing</html>")
    monkeypatch.setattr(briefing_render, "html_to_pdf", lambda page: b"%PDF-" + page[:10].encode())
    monkeypatch.setattr(briefing_render, "RENDER_QUEUE_S", 0.2)
    args = (briefing, "zh", "漳州市", "pdf", dt.datetime(2026, 5, 3, 8))
    assert briefing_render.render(*args).startswith(b"%PDF-")                 # a free slot renders at once
    held = threading.Event()
    release = threading.Event()

    def occupy():
        with briefing_render._slots:
            held.set()
            release.wait(5)

    holder = threading.Thread(target=occupy)
    holder.start()
    try:
        held.wait(5)
        started = time.monotonic()
        with pytest.raises(briefing_render.RenderError, match="try again"):
            briefing_render.render(*args)
        assert time.monotonic() - started < 2 and len(drawn) == 1              # refused before any drawing
    finally:
        release.set()
        holder.join()
    assert briefing_render.render(*args).startswith(b"%PDF-") and len(drawn) == 2   # the slot is free again
