"""`flask --app wsgi storage-check [--fix]`: photo rows vs stored files."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db

# Scratch areas of other packages that the same command checks, registered in
# create_app's cross-layer hooks (the resumable uploads of app.sync):
# check(fix, min_age_s) -> (lines to print, problems left).
Check = Callable[[bool, float], tuple[list[str], int]]
_CHECKS: list[Check] = []


def register_check(check: Check) -> None:
    if check not in _CHECKS:
        _CHECKS.append(check)


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
    from app.photos.services import check_storage

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
    left = 0
    for check in _CHECKS:
        lines, problems = check(fix, min_age * 60)
        for line in lines:
            click.echo(line)
        left += problems
    if report.missing or len(report.orphans) > len(report.removed) or left:
        raise SystemExit(1)
