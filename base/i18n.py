"""Every text a person reads, in Chinese first and English second, and `t()` to look one up."""

from __future__ import annotations

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

CATALOGUE: dict[str, dict[str, str]] = {
    # the application
    "app.name": {"zh": "警保联动", "en": "Police–Insurance Joint Service"},
    "app.subtitle": {"zh": "道路交通事故快处快赔", "en": "road-accident quick handling"},
    "app.home": {"zh": "返回总览", "en": "Back to the overview"},
    "app.loading": {"zh": "正在加载…", "en": "Loading…"},
    "nav.label": {"zh": "页面导航", "en": "Pages"},
    "nav.overview": {"zh": "总览", "en": "Overview"},
    "page.not_found.title": {"zh": "页面不存在", "en": "Page not found"},
    "page.not_found.body": {"zh": "地址 {path} 没有对应的页面，可能已移动或输入有误。",
                            "en": "There is no page at {path}; it may have moved, or the address has a typo."},
    # the filter bar
    "filters.label": {"zh": "筛选条件", "en": "Filters"},
    "filters.city": {"zh": "城市", "en": "City"},
    "filters.range": {"zh": "时间", "en": "Period"},
    "filters.start": {"zh": "开始日期", "en": "Start date"},
    "filters.end": {"zh": "结束日期", "en": "End date"},
    "filters.compare": {"zh": "对比", "en": "Compare"},
    "filters.language": {"zh": "语言", "en": "Language"},
    "filters.district": {"zh": "区县", "en": "District"},
    "range.today": {"zh": "今天", "en": "Today"},
    "range.yesterday": {"zh": "昨天", "en": "Yesterday"},
    "range.7d": {"zh": "近 7 天", "en": "Last 7 days"},
    "range.30d": {"zh": "近 30 天", "en": "Last 30 days"},
    "range.90d": {"zh": "近 90 天", "en": "Last 90 days"},
    "range.ytd": {"zh": "今年以来", "en": "Year to date"},
    "range.12m": {"zh": "近 12 个月", "en": "Last 12 months"},
    "range.all": {"zh": "全部", "en": "All time"},
    "range.custom": {"zh": "自定义", "en": "Custom"},
    "compare.yoy": {"zh": "同比", "en": "YoY"},
    "compare.pop": {"zh": "环比", "en": "PoP"},
    "compare.none": {"zh": "不对比", "en": "None"},
    "compare.yoy.long": {"zh": "同比（去年同期）", "en": "Year on year"},
    "compare.pop.long": {"zh": "环比（上一周期）", "en": "Period on period"},
    "compare.none.long": {"zh": "不对比", "en": "No comparison"},
    "language.zh": {"zh": "中文", "en": "中文"},
    "language.en": {"zh": "English", "en": "English"},
    "district.whole_city": {"zh": "全市", "en": "Whole city"},
    "district.clear": {"zh": "清除区县筛选，查看全市", "en": "Clear the district filter: whole city"},
    "district.breadcrumb": {"zh": "当前范围", "en": "Showing"},
    # freshness
    "status.as_of": {"zh": "数据截至 {time}", "en": "Data as of {time}"},
    "status.no_data_yet": {"zh": "暂无数据", "en": "No data yet"},
    "status.stale": {"zh": "数据延迟 · 截至 {time}", "en": "Data delayed · as of {time}"},
    "status.db_down": {"zh": "数据延迟 · 自 {time} 起未更新", "en": "Data delayed · not updated since {time}"},
    "status.db_down_no_time": {"zh": "数据延迟 · 数据库暂时无法连接", "en": "Data delayed · database unreachable"},
    # messages in place
    "message.empty": {"zh": "所选时间段内没有数据", "en": "No data in the chosen window"},
    "message.empty_hint": {"zh": "请调整时间范围或城市。", "en": "Try another period or city."},
    "message.db_unavailable": {"zh": "数据库暂时无法连接，页面将自动重试。",
                               "en": "The database cannot be reached right now; the page will retry by itself."},
    "message.problems": {"zh": "链接中有无法识别的筛选条件，已按默认值显示：",
                         "en": "Some filters in the link were not understood; showing the defaults instead:"},
    "problem.bad_city": {"zh": "未知的城市代码 “{value}”", "en": "unknown city code “{value}”"},
    "problem.bad_district": {"zh": "区县代码 “{value}” 不属于所选城市", "en": "district “{value}” is not in this city"},
    "problem.bad_compare": {"zh": "未知的对比方式 “{value}”（可用：同比 yoy、环比 pop、不对比 none）",
                            "en": "unknown comparison “{value}” (use yoy, pop or none)"},
    "problem.bad_range": {"zh": "未知的时间范围 “{value}”", "en": "unknown period “{value}”"},
    "problem.bad_date": {"zh": "无法识别的日期 “{value}”（格式：2020-06-01）",
                         "en": "“{value}” is not a date like 2020-06-01"},
    "problem.bad_window.end_before_start": {"zh": "结束日期早于开始日期",
                                            "en": "the end date is before the start date"},
    "problem.bad_window.out_of_range": {"zh": "日期超出可查询范围", "en": "the dates are outside the range on record"},
    "problem.bad_insurer": {"zh": "未知的保险公司编号 “{value}”", "en": "unknown insurer id “{value}”"},
    "problem.unknown": {"zh": "无法识别的参数 “{value}”", "en": "a value that was not understood: “{value}”"},
    # windows
    "window.range": {"zh": "{start} 至 {end}", "en": "{start} – {end}"},
    "window.compared": {"zh": "{window}，对比 {comparison}", "en": "{window}, compared with {comparison}"},
    # KPIs
    "kpi.section": {"zh": "核心指标", "en": "Key figures"},
    "kpi.too_small": {"zh": "— 样本过少，不作比较", "en": "— too few to compare"},
    "kpi.no_previous": {"zh": "— 对比期无数据", "en": "— nothing to compare with"},
    "kpi.standing": {"zh": "当前数，不作对比", "en": "as of now, not compared"},
    "kpi.change_up": {"zh": "上升", "en": "up"},
    "kpi.change_down": {"zh": "下降", "en": "down"},
    "kpi.change_flat": {"zh": "持平", "en": "unchanged"},
    "kpi.previous": {"zh": "对比期 {value}", "en": "was {value}"},
    # units
    "unit.cases": {"zh": "起", "en": "cases"},
    "unit.missions": {"zh": "次", "en": "missions"},
    "unit.minutes": {"zh": "分钟", "en": "min"},
    "unit.minutes_short": {"zh": "分", "en": "min"},
    "unit.hours": {"zh": "小时", "en": "h"},
    "unit.insurers": {"zh": "家", "en": "insurers"},
    "unit.grids": {"zh": "个", "en": "grids"},
    "unit.person_times": {"zh": "人次", "en": "person-times"},
    "unit.km": {"zh": "公里", "en": "km"},
    "unit.yuan": {"zh": "元", "en": "yuan"},
    "unit.pp": {"zh": "个百分点", "en": "pp"},
    # the daily trend
    "trend.title": {"zh": "每日警情与快处", "en": "Daily accident alerts and quick handling"},
    "trend.alerts": {"zh": "交通事故警情", "en": "Accident alerts"},
    "trend.quick": {"zh": "快处案件", "en": "Quick-handled cases"},
    "trend.quick_rate": {"zh": "快处率", "en": "Quick-handling rate"},
    "trend.axis_count": {"zh": "起数（起/日）", "en": "cases per day"},
    "trend.axis_rate": {"zh": "快处率（%）", "en": "quick-handling rate (%)"},
    "trend.axis_day": {"zh": "日期", "en": "day"},
    "trend.duty": {"zh": "特殊勤务", "en": "special duty"},
    # the district map
    "map.title": {"zh": "各区县交通事故警情", "en": "Accident alerts by district"},
    "map.colorbar": {"zh": "警情（起）", "en": "alerts (cases)"},
    "map.hint": {"zh": "点击区县查看该区县，再次点击返回全市",
                 "en": "Click a district to focus on it; click again for the whole city"},
    "map.hover_alerts": {"zh": "警情", "en": "Alerts"},
    "map.hover_quick": {"zh": "快处", "en": "Quick-handled"},
    "map.hover_rate": {"zh": "快处率", "en": "Quick rate"},
    "map.no_boundaries": {"zh": "该城市尚无区县边界数据", "en": "No district boundaries for this city yet"},
    "loading": {"zh": "加载中…", "en": "Loading…"},
    # the payouts page (快赔)
    "nav.payouts": {"zh": "快赔", "en": "Payouts"},
    "payouts.stages.title": {"zh": "各环节用时（P50 / P90）", "en": "Time of each stage (p50 / p90)"},
    "payouts.stages.axis": {"zh": "用时（分钟，对数刻度）", "en": "minutes (log scale)"},
    "payouts.stage.to_scene": {"zh": "报警→到场", "en": "Report → on scene"},
    "payouts.stage.clearance": {"zh": "到场→撤离现场", "en": "On scene → cleared"},
    "payouts.stage.liability": {"zh": "报警→定责", "en": "Report → liability"},
    "payouts.stage.assessment": {"zh": "报警→定损", "en": "Report → damage assessed"},
    "payouts.stage.payout": {"zh": "报警→赔付到账", "en": "Report → paid"},
    "payouts.p50": {"zh": "中位数 P50", "en": "Median (p50)"},
    "payouts.p90": {"zh": "P90", "en": "p90"},
    "payouts.p99": {"zh": "P99", "en": "p99"},
    "payouts.fastest": {"zh": "最快", "en": "fastest"},
    "payouts.count": {"zh": "案件数", "en": "cases"},
    "payouts.within.title": {"zh": "报警后赔付到账占比", "en": "Share paid within a time of the report"},
    "payouts.within.axis": {"zh": "占已赔付案件（%）", "en": "share of paid cases (%)"},
    "payouts.within.15m": {"zh": "15 分钟内", "en": "Within 15 min"},
    "payouts.within.1h": {"zh": "1 小时内", "en": "Within 1 hour"},
    "payouts.within.1d": {"zh": "1 天内", "en": "Within 1 day"},
    "payouts.district.title": {"zh": "各区县赔付时长 P90", "en": "Payout time p90 by district"},
    "payouts.district.axis": {"zh": "赔付时长 P90（分钟）", "en": "payout time p90 (minutes)"},
    "payouts.insurers.title": {"zh": "保险公司赔付时效排名（按赔付时长 P90）",
                               "en": "Insurers ranked by payout time p90"},
    "payouts.col.rank": {"zh": "排名", "en": "Rank"},
    "payouts.col.insurer": {"zh": "保险公司", "en": "Insurer"},
    "payouts.col.paid": {"zh": "赔付案件（起）", "en": "Cases paid"},
    "payouts.col.amount": {"zh": "赔付金额（元）", "en": "Amount paid (yuan)"},
    "payouts.col.p50": {"zh": "赔付时长中位数（分钟）", "en": "Payout p50 (min)"},
    "payouts.col.p90": {"zh": "赔付时长 P90（分钟）", "en": "Payout p90 (min)"},
    "payouts.col.sla": {"zh": "远程定责 5 分钟达标率", "en": "Remote liability ≤ 5 min"},
    "download.csv": {"zh": "下载 CSV", "en": "Download CSV"},
    "download.csv.label": {"zh": "下载“{chart}”的数据（CSV）", "en": "Download the data of “{chart}” (CSV)"},
}


def _merge_feature_texts() -> None:
    """Each feature keeps its texts in its own module of `base.texts` (a dict `TEXTS` of the same shape as
    CATALOGUE); they join the catalogue here. A key defined twice is a mistake and stops the import."""
    import importlib
    import pkgutil

    from base import texts

    for module in pkgutil.iter_modules(texts.__path__):
        feature = importlib.import_module(f"base.texts.{module.name}")
        clash = CATALOGUE.keys() & feature.TEXTS.keys()
        if clash:
            raise RuntimeError(f"texts defined twice ({module.name}): {sorted(clash)}")
        CATALOGUE.update(feature.TEXTS)


_merge_feature_texts()


def normalize_language(value: object, default: str = DEFAULT_LANGUAGE) -> str:
    """A language code from the URL, falling back to the default for anything unknown."""
    text = str(value or "").strip().lower()[:5]
    if text.startswith("en"):
        return "en"
    if text.startswith("zh"):
        return "zh"
    return default if default in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str = DEFAULT_LANGUAGE, **kwargs: object) -> str:
    """The text of `key` in `lang` (Chinese when the language is unknown), formatted with `kwargs`."""
    entry = CATALOGUE[key]
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**kwargs) if kwargs else text


def problem_message(problem: str, lang: str) -> str:
    """A `parse_filters` problem such as "bad_city:999999" or "bad_window:end_before_start", in words."""
    kind, _, value = problem.partition(":")
    if kind == "bad_window" and f"problem.bad_window.{value}" in CATALOGUE:
        return t(f"problem.bad_window.{value}", lang)
    if f"problem.{kind}" in CATALOGUE and kind != "bad_window":
        return t(f"problem.{kind}", lang, value=value)
    return t("problem.unknown", lang, value=problem)
