"""The Alembic migrations are the schema: they produce exactly what the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from dashboard.cli import main
from data_access.db import Database
from data_access.models import Base
from data_access.schema import current_revision, drop_everything, head_revision, upgrade
from tests.servers import fresh_database_url


def schema_differences(db: Database) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrations_produce_exactly_the_models_schema(database_url):
    db = Database(database_url)
    db.create_file()
    upgrade(db.engine)
    assert schema_differences(db) == []
    assert current_revision(db.engine) == head_revision()


def test_create_schema_runs_the_migrations_and_is_idempotent(tmp_path):
    db = Database(fresh_database_url(tmp_path, "c.db"))
    db.create_schema()
    db.create_schema()
    assert current_revision(db.engine) == head_revision()
    assert db.data_version() == 0
    drop_everything(db.engine)
    assert inspect(db.engine).get_table_names() == []


def test_cli_db_upgrade_and_current(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JINGBAO_DATABASE_URL", fresh_database_url(tmp_path, "cli.db"))
    assert main(["db", "upgrade"]) == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert main(["db", "upgrade", "--revision", "nonexistent"]) == 2
    assert "error" in capsys.readouterr().err
