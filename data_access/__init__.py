"""Data access for the 警保联动 dashboard: models, sessions, rollups and one query function per metric."""
