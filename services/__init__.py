"""What the API, the CLI and the pages share above the data layer: the running process (database, settings), the
reports they print and serve, and the briefing rendered to PDF/PNG."""
