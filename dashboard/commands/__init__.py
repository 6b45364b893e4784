"""`jingbao` sub-commands that belong to one feature each; see `dashboard.cli._register_feature_commands`."""
