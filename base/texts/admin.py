"""Texts of the administration page: accounts and the audit log."""

TEXTS: dict[str, dict[str, str]] = {
    "nav.admin": {"zh": "管理", "en": "Admin"},
    "admin.intro": {"zh": "账号与审计日志（只读）。账号的创建、停用、重置密码和大屏链接用命令 jingbao users 管理，"
                          "每次变更都记入审计日志。",
                    "en": "Accounts and the audit log (read-only). Create, disable and reset accounts and issue wall "
                          "links with `jingbao users`; every change is written to the audit log."},
    "admin.accounts": {"zh": "账号", "en": "Accounts"},
    "admin.audit": {"zh": "审计日志（最近 {count} 条）", "en": "Audit log (latest {count})"},
    "admin.col.name": {"zh": "账号", "en": "Account"},
    "admin.col.role": {"zh": "角色", "en": "Role"},
    "admin.col.scope": {"zh": "范围", "en": "Scope"},
    "admin.col.state": {"zh": "状态", "en": "State"},
    "admin.col.at": {"zh": "时间", "en": "Time"},
    "admin.col.event": {"zh": "事件", "en": "Event"},
    "admin.col.address": {"zh": "地址", "en": "Address"},
    "admin.col.detail": {"zh": "详情", "en": "Detail"},
    "admin.scope.every_city": {"zh": "全部城市", "en": "every city"},
    "admin.scope.districts": {"zh": "区县 {codes}", "en": "districts {codes}"},
    "admin.scope.insurer": {"zh": "保险机构 {code}", "en": "insurer {code}"},
    "admin.state.active": {"zh": "启用", "en": "active"},
    "admin.state.disabled": {"zh": "已停用", "en": "disabled"},
}
