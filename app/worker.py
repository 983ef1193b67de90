"""The background export worker: the app it runs jobs with, and its command.

RQ runs a job by importing its function by name (``app.worker.rq_task``), in a
process that may have no app yet, so building one is the entry point's
business. It lives here, beside the app factory, so that app/exports never
climbs up to ``create_app``: the export code is always handed its app.

``flask --app wsgi worker`` binds the app it was started with; a bare
``rq worker`` process builds one from the environment on its first job.
"""

from __future__ import annotations

import uuid

import click
from flask import Flask, current_app, has_app_context
from flask.cli import with_appcontext

from app.exports import jobs

_bound_app: Flask | None = None


def bind_app(app: Flask) -> None:
    """The app an in-process RQ worker runs jobs with (the worker command sets it)."""
    global _bound_app
    _bound_app = app


def worker_app() -> Flask:
    """The app to run a job with: the current one, the bound one, else a new one."""
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
    if _bound_app is not None:
        return _bound_app
    from app import create_app

    return create_app()


def rq_task(job_id: str) -> str:
    """The RQ entry point (jobs.RQ_TASK): run the export with the worker's app."""
    return jobs.run_export(uuid.UUID(job_id), worker_app())


def rq_deliver() -> dict[str, int]:
    """The RQ entry point of webhook delivery (app.alerts.delivery.RQ_TASK)."""
    from app.alerts import delivery

    app = worker_app()
    with app.app_context():
        return delivery.deliver_due(app)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an RQ worker for export jobs and webhook deliveries (needs REDIS_URL)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("REDIS_URL"):
        raise click.ClickException(
            "REDIS_URL is not set. Without Redis, exports run in a thread of the app process."
        )
    from rq import Queue, Worker

    from app.alerts.delivery import RQ_QUEUE

    bind_app(app)
    queue = jobs.rq_queue(app)
    webhooks = Queue(RQ_QUEUE, connection=queue.connection)
    click.echo(f"worker listening on queues {queue.name!r} and {webhooks.name!r}")
    Worker([queue, webhooks], connection=queue.connection).work(burst=burst)
