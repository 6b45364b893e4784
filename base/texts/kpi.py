"""Texts of the KPI cards (definition tooltip, maturity mark) and of maturity wherever a figure is shown."""

TEXTS = {
    "kpi.definition": {"zh": "{name}的口径：{definition}", "en": "How {name} is defined: {definition}"},
    "kpi.immature": {"zh": "数据未成熟（已完成 {pct}）", "en": "immature data ({pct} complete)"},
    "kpi.immature.why": {"zh": "窗口内仍有案件未走完这一环节（近期未赔付的多为慢的），数值会偏快；"
                               "完成 {threshold} 前不作比较。",
                         "en": "Some of the window's cases have not reached this stage yet (those still unpaid are "
                               "the slow ones), so the figure reads fast; it is not compared until {threshold} "
                               "have."},
    "kpi.not_compared": {"zh": "不作比较", "en": "not compared"},
}
