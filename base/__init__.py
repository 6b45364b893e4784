"""The shared base every layer may import: settings, the i18n catalogue and its texts. Imports nothing of ours."""
