"""`flask --app wsgi storage-check [--fix]`: photo rows vs stored files."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db


@click.command("storage-check")
@click.option("--fix", is_flag=True, help="Delete orphan files (rows are never deleted).")
@click.option(
    "--min-age",
    default=60,
    show_default=True,
    type=click.IntRange(min=0),
    help="Minutes: younger unreferenced files may belong to an upload in progress; left alone.",
)
@with_appcontext
def storage_check(fix: bool, min_age: int) -> None:
    """Report photos whose files are missing and files no photo references.

    Exit status 1 when anything is missing or an orphan is left.
    """
    from app.photos.storage_check import check_storage

    report = check_storage(
        db.session, current_app.extensions["storage"], fix=fix, min_age_s=min_age * 60
    )
    for photo_id, size, key in report.missing:
        click.echo(f"missing  photo {photo_id} {size}: {key}")
    for key in report.orphans:
        click.echo(f"{'removed' if key in report.removed else 'orphan'}  {key}")
    for key in report.young:
        click.echo(f"recent   {key} (unreferenced, younger than {min_age} min; left alone)")
    click.echo(
        f"{len(report.missing)} missing, {len(report.orphans)} orphans, "
        f"removed {len(report.removed)}, {len(report.young)} recent"
    )
    if report.missing or len(report.orphans) > len(report.removed):
        raise SystemExit(1)
