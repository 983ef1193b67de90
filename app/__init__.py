"""WoundTrack: wound-care tracking for radiation dermatitis."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.core.jsonbody import ProblemJSONProvider
from app.core.security import BoundedRequest
from config import load_config


class WoundTrackFlask(Flask):
    """Flask with the request boundary as the one place that commits, reading
    JSON bodies with the limits of app.core.jsonbody and every body with the
    size limit of app.core.security.

    Services flush; a view that returns a success response is committed here,
    once. Anything that raises is handled by app/core/errors.py after the
    session is rolled back, so a rejected request writes nothing.
    """

    json_provider_class = ProblemJSONProvider
    request_class = BoundedRequest

    def dispatch_request(self) -> Any:  # type: ignore[override]
        from app.extensions import db

        try:
            response = self.make_response(super().dispatch_request())
        except BaseException:
            db.session.rollback()
            raise
        if response.status_code < 400:
            # The response is built and the session ends with the request:
            # expiring every loaded object at the commit would be wasted work.
            db.session().expire_on_commit = False
            db.session.commit()
        else:
            db.session.rollback()
        return response


def _register_migrations(app: Flask) -> None:
    """``flask db`` and flask_migrate.upgrade() (the tests, the benchmarks):
    Flask-Migrate on the migrations directory. Only where MIGRATIONS is set:
    Alembic and Mako cost each web worker about 10 MB for nothing."""
    from flask_migrate import Migrate

    from app.extensions import db

    Migrate(app, db, directory=str(_migrations_dir()), compare_type=True)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = WoundTrackFlask(__name__, instance_relative_config=False)
    # Responses keep the schemas' field order (id first, as documented) rather
    # than re-sorting every object's keys on every response.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config.from_mapping(load_config())
    if overrides:
        app.config.update(overrides)

    from app.core import proxies

    # The client's address behind reverse proxies (TRUSTED_PROXIES), for rate
    # limits and the audit trail; a malformed setting stops the app here.
    proxies.init_app(app)

    from app.core import logs

    logs.configure(app)

    from app.core.engine import engine_options
    from app.extensions import api, db, limiter

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config
    )
    db.init_app(app)
    with app.app_context():
        from app.core.sqlite import configure_sqlite

        configure_sqlite(db.engine, busy_timeout_ms=int(app.config["DB_BUSY_TIMEOUT_MS"]))
    if app.config["MIGRATIONS"]:
        _register_migrations(app)
    if app.config.get("REDIS_URL") and app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    limiter.init_app(app)

    from app.core.storage import make_storage

    app.extensions["storage"] = make_storage(
        app.config.get("STORAGE_URL") or app.config["STORAGE_DIR"]
    )
    _prepare_temp_dir(app)

    _import_models()
    _register_cross_layer_hooks(app)
    api.init_app(app)
    # Every operation needs a bearer token unless it says otherwise (security: []).
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "Opaque access token"}
    )
    for blp in _blueprints():
        api.register_blueprint(blp)
    from app.core import docs

    app.register_blueprint(docs.bp)
    _register_fhir(app)
    _register_web(app)

    from app.core.errors import register_error_handlers

    register_error_handlers(app)

    from app.core import security

    security.init_app(app)

    from app.audit import denials

    denials.init_app(app)

    from app import cli
    from app.worker import worker_command

    cli.init_app(app)
    app.cli.add_command(worker_command)
    return app


def _prepare_temp_dir(app: Flask) -> None:
    """The temp folder of uploads and exports (app/core/scratch.py), created,
    with what killed processes left there removed."""
    import logging

    from app.core import scratch

    root = scratch.temp_root(
        app.config.get("TEMP_DIR"), app.extensions["storage"], app.config["STORAGE_DIR"]
    )
    app.config["TEMP_DIR"] = str(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        removed = scratch.remove_stale(root, app.config["TEMP_STALE_SECONDS"])
    except OSError as exc:  # a storage volume not mounted yet must not stop the start
        logging.getLogger(__name__).warning("temp folder %s: %s", root, exc)
        return
    if removed:
        logging.getLogger(__name__).info(
            "removed %d stale temporary entries from %s", len(removed), root
        )


def _migrations_dir() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"


def _import_models() -> None:
    """Import every models module so the metadata is complete (Alembic, mappers)."""
    import app.alerts.models
    import app.assessments.models
    import app.auth.models
    import app.clinics.models
    import app.core.audit
    import app.core.history
    import app.exports.models
    import app.fhir.models
    import app.patients.models
    import app.photos.models
    import app.procedures.models
    import app.radiotherapy.models
    import app.sync.models
    import app.therapy.models
    import app.wounds.models  # noqa: F401


def _register_cross_layer_hooks(app: Flask) -> None:
    """Where a lower layer needs a higher one, the higher one registers with it
    here, so imports only ever point down: auth's token lookup with core.access,
    the export queue gauge with core.metrics, assessments with wound events,
    the upload area's check with the photos' storage-check, alerts with every
    session's flushes and commits (app/alerts/hooks.py)."""
    from app.alerts.hooks import follow_writes
    from app.assessments.services import follow_wound_changes
    from app.auth.services import user_for_access_token
    from app.core.access import register_token_lookup
    from app.exports.jobs import register_queue_gauge
    from app.photos.cli import register_check
    from app.sync.cleanup import storage_check as check_uploads

    register_token_lookup(user_for_access_token)
    register_queue_gauge(app)
    follow_wound_changes()
    follow_writes()
    register_check(check_uploads)


def _blueprints() -> list[Any]:
    """The API, in the order it appears in the OpenAPI document."""
    from app.alerts.routes import blp as alerts
    from app.assessments.routes import blp as assessments
    from app.audit.routes import blp as audit
    from app.auth.routes import blp as auth
    from app.clinics.routes import blp as clinics
    from app.core.health import blp as health
    from app.exports.routes import blp as exports
    from app.fhir.clients import blp as smart_clients
    from app.patients.routes import blp as patients
    from app.photos.routes import blp as photos
    from app.procedures.routes import blp as procedures
    from app.radiotherapy.routes import blp as radiotherapy
    from app.summaries.routes import blp as summaries
    from app.sync.routes import blp as sync
    from app.sync.upload_routes import blp as uploads
    from app.therapy.routes import blp as therapy
    from app.wounds.routes import blp as wounds

    return [
        health,
        auth,
        clinics,
        patients,
        radiotherapy,
        wounds,
        assessments,
        procedures,
        photos,
        therapy,
        summaries,
        alerts,
        exports,
        smart_clients,
        sync,
        uploads,
        audit,
    ]


def _register_fhir(app: Flask) -> None:
    """The FHIR R4 read API and its SMART App Launch server, beside the REST API
    (it describes itself with its own CapabilityStatement, not OpenAPI)."""
    from app.fhir import oauth
    from app.fhir.routes import bp

    oauth.init_app(app)
    app.register_blueprint(bp)


def _register_web(app: Flask) -> None:
    """The clinic pages (cookie sessions) and the nurse app's files, beside the
    bearer-token API."""
    from app.nurse.routes import bp as nurse_bp
    from app.web.routes import bp

    app.register_blueprint(bp)
    app.register_blueprint(nurse_bp)


__all__ = ["create_app"]
