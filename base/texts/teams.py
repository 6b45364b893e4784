"""Texts of the rider-team page (快骑队): its navigation entry, chart titles, axes and hints."""

TEXTS: dict[str, dict[str, str]] = {
    "nav.teams": {"zh": "快骑队", "en": "Teams"},
    "teams.intro": {"zh": "快骑队以岗亭为依托网格化巡逻，发现事故即快处快赔；"
                          "队伍、车辆与网格为当前数，其余为所选时间段。",
                    "en": "Rider teams patrol their grids from police booths and settle minor accidents on the spot; "
                          "strength is as of now, everything else over the chosen period."},
    "teams.patrols.title": {"zh": "巡逻人次与里程（按月）", "en": "Patrols per month: person-times and distance"},
    "teams.patrols.axis": {"zh": "人次", "en": "person-times"},
    "teams.patrols.axis_km": {"zh": "公里", "en": "km"},
    "teams.person_times": {"zh": "巡逻人次", "en": "Patrol person-times"},
    "teams.km": {"zh": "巡逻里程", "en": "Distance patrolled"},
    "teams.districts.title": {"zh": "各区县巡逻与服务", "en": "Patrols and services by district"},
    "teams.districts.axis": {"zh": "人次", "en": "person-times"},
    "teams.persuaded": {"zh": "安全劝导", "en": "Safety persuasion"},
    "teams.good_deeds": {"zh": "便民服务", "en": "Convenience services"},
    "teams.share.title": {"zh": "快骑队办结的快处案件（按月）",
                          "en": "Quick-handled cases settled by rider teams, per month"},
    "teams.share.axis": {"zh": "快处案件（起）", "en": "quick-handled cases"},
    "teams.share.axis_share": {"zh": "快骑队占比", "en": "rider-team share"},
    "teams.quick": {"zh": "快处案件", "en": "Quick-handled"},
    "teams.quick_rider": {"zh": "其中快骑队办结", "en": "Settled by rider teams"},
    "teams.rider_share": {"zh": "快骑队占比", "en": "Rider-team share"},
}
