"""`flask --app wsgi storage-check [--fix]`: photo rows vs stored files, and
what killed uploads and exports left in the temp folder."""

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
@click.option(
    "--fix",
    is_flag=True,
    help="Delete orphan files and stale temporary files (rows are never deleted).",
)
@click.option(
    "--min-age",
    default=60,
    show_default=True,
    type=click.IntRange(min=0),
    help="Minutes: younger unreferenced files may belong to an upload in progress; left alone.",
)
@with_appcontext
def storage_check(fix: bool, min_age: int) -> None:
    """Report photos whose files are missing, files no photo references, and
    temporary files of uploads and exports that nothing wrote to for
    TEMP_STALE_SECONDS (left by a killed process).

    Exit status 1 when anything is missing, or an orphan or stale temporary
    file is left.
    """
    from app.core import scratch
    from app.photos.storage_check import check_storage

    report = check_storage(
        db.session, current_app.extensions["storage"], fix=fix, min_age_s=min_age * 60
    )
    temp, stale_after = current_app.config["TEMP_DIR"], current_app.config["TEMP_STALE_SECONDS"]
    if fix:
        for name in scratch.remove_stale(temp, stale_after):
            click.echo(f"removed temp  {name}")
    stale_temp = [p.name for p in scratch.stale_entries(temp, stale_after)]
    for name in stale_temp:
        click.echo(f"stale temp  {name} (in {temp})")
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
    if report.missing or len(report.orphans) > len(report.removed) or stale_temp or left:
        raise SystemExit(1)
