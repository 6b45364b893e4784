"""Texts of one feature each (`TEXTS = {key: {"zh": ..., "en": ...}}`), merged into `base.i18n.CATALOGUE`."""
