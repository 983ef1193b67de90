"""`flask --app wsgi backup PATH` and `flask --app wsgi restore PATH`.

A backup is a directory:

- ``database.sqlite3``: SQLite, taken with the online backup API
  (``sqlite3.Connection.backup``), consistent while the service keeps running;
- or ``database.pgdump``: PostgreSQL, ``pg_dump --format=custom`` (restored
  with ``pg_restore``); when pg_dump is not installed the command prints the
  exact command to run instead;
- ``storage/``: a copy of STORAGE_DIR (photos, exports). With S3 storage
  (STORAGE_URL) the bucket is not copied: use bucket versioning or
  ``aws s3 sync`` (README "Running in production").

Order matters: the database is copied first, the files second. Files are
written before their row is committed and are never changed or removed by the
service, so every row in the database copy has its files in the storage copy
(a photo committed in between only adds an unreferenced file, which
``storage-check --fix`` removes).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app.core.db import app_db

DB_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
STORAGE = "storage"


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise click.ClickException("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """The URL pg_dump/pg_restore understand (no SQLAlchemy driver name, no
    password) and the environment that carries the password (PGPASSWORD).

    A password in argv is readable by every user of the host (ps, /proc).
    """
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    bare = sa.URL.create(  # URL.set cannot clear a field: None means "keep"
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return bare.render_as_string(hide_password=False), env


@contextlib.contextmanager
def _private_files() -> Iterator[None]:
    """Files and folders created inside are the owner's alone (0600 / 0700):
    a backup holds every patient's record."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _copy_sqlite(src: Path, dst: Path) -> None:
    """Copy a live SQLite database page by page (the online backup API)."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(dst)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def _copy_tree(src: Path, dst: Path) -> int:
    """Copy the storage files (not unfinished ``.tmp-*`` writes); return the count.

    Contents and modification times are copied, not permission bits: a copy
    takes the mode its umask gives (0600 inside a backup)."""
    count = 0
    for path in sorted(src.rglob("*")):
        if not path.is_file() or any(p.startswith(".") for p in path.relative_to(src).parts):
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        stat = path.stat()
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        count += 1
    return count


@click.command("backup")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Back up the database and the stored files into the new directory PATH
    (readable by its owner only)."""
    if path.exists() and any(path.iterdir()):
        raise click.ClickException(f"{path} exists and is not empty.")
    with _private_files():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
        _back_up(path)


def _back_up(path: Path) -> None:
    url = app_db().engine.url
    if url.get_backend_name() == "sqlite":
        _copy_sqlite(_sqlite_path(url), path / DB_FILE)
        click.echo(f"database: {path / DB_FILE} (SQLite online backup)")
    else:
        target, env = _libpq(url)
        command = ["pg_dump", "--format=custom", f"--file={path / PG_FILE}", target]
        if shutil.which("pg_dump") is None:
            shown = [*command[:-1], "$DATABASE_URL"]
            raise click.ClickException(
                "pg_dump is not installed here. Run on a host with the PostgreSQL "
                f"client tools:\n  {' '.join(shown)}\nthen copy the storage as below."
            )
        subprocess.run(command, check=True, env=env)  # noqa: S603 (fixed argv, no shell)
        click.echo(f"database: {path / PG_FILE} (pg_dump, custom format)")
    if current_app.config.get("STORAGE_URL"):
        click.echo("storage: S3 bucket not copied; use bucket versioning or `aws s3 sync`.")
        return
    n = _copy_tree(Path(current_app.config["STORAGE_DIR"]), path / STORAGE)
    click.echo(f"storage: {n} files in {path / STORAGE}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--database-url", help="Restore into this database instead of DATABASE_URL.")
@click.option("--storage-dir", type=click.Path(path_type=Path), help="Instead of STORAGE_DIR.")
@click.option("--force", is_flag=True, help="Overwrite a SQLite database file that exists.")
@with_appcontext
def restore_command(
    path: Path, database_url: str | None, storage_dir: Path | None, force: bool
) -> None:
    """Restore a backup made by `backup` (stop the service first)."""
    db = app_db()

    url = sa.engine.make_url(database_url) if database_url else db.engine.url
    if (path / DB_FILE).exists():
        if url.get_backend_name() != "sqlite":
            raise click.ClickException("This backup is SQLite; restore it into a SQLite URL.")
        target = _sqlite_path(url)
        if target.exists() and target.stat().st_size and not force:
            raise click.ClickException(f"{target} exists; pass --force to overwrite it.")
        target.parent.mkdir(parents=True, exist_ok=True)
        db.session.remove()
        db.engine.dispose()
        _copy_sqlite(path / DB_FILE, target)
        click.echo(f"database: restored into {target}")
    elif (path / PG_FILE).exists():
        dbname, env = _libpq(url)
        command = [
            "pg_restore",
            "--no-owner",
            "--clean",
            "--if-exists",
            f"--dbname={dbname}",
            str(path / PG_FILE),
        ]
        if shutil.which("pg_restore") is None:
            shown = [*command[:-2], "--dbname=$DATABASE_URL", str(path / PG_FILE)]
            raise click.ClickException(
                f"pg_restore is not installed here. Run:\n  {' '.join(shown)}"
            )
        subprocess.run(command, check=True, env=env)  # noqa: S603 (fixed argv, no shell)
        click.echo("database: restored with pg_restore")
    else:
        raise click.ClickException(f"{path} holds no {DB_FILE} or {PG_FILE}.")
    if (path / STORAGE).is_dir():
        dest = storage_dir or Path(current_app.config["STORAGE_DIR"])
        n = _copy_tree(path / STORAGE, dest)
        click.echo(f"storage: {n} files restored into {dest}")
    click.echo("Run `flask --app wsgi storage-check` to confirm every photo has its files.")


def init_app(app: object) -> None:
    """Register the commands (called from app/cli.py)."""
    app.cli.add_command(backup_command)  # type: ignore[attr-defined]
    app.cli.add_command(restore_command)  # type: ignore[attr-defined]
