"""WSGI entry point for gunicorn run from the repository: `gunicorn wsgi:server`."""

from dashboard.wsgi import app, server

__all__ = ["app", "server"]
