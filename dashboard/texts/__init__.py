"""Texts of one feature each (`TEXTS = {key: {"zh": ..., "en": ...}}`), merged into `dashboard.i18n.CATALOGUE`."""
