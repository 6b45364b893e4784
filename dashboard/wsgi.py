"""WSGI entry point for gunicorn: `gunicorn dashboard.wsgi:server` (settings from JINGBAO_* variables)."""

from dashboard.app import create_app

app = create_app()
server = app.server
