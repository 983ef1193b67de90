"""Alerts (GET, acknowledge), clinic webhooks, their deliveries, the digest."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.alerts import services
from app.alerts.schemas import (
    AcknowledgeSchema,
    AlertListArgsSchema,
    AlertSchema,
    DeliveryListArgsSchema,
    DeliverySchema,
    DigestSubscriptionSchema,
    MessageSchema,
    WebhookCreatedSchema,
    WebhookInSchema,
    WebhookSchema,
)
from app.core.schemas import page_schema
from app.extensions import db

blp = Blueprint(
    "alerts",
    __name__,
    url_prefix="/api/v1",
    description="Alerts on wounds that need attention, and their delivery by signed webhooks",
)


@blp.route("/alerts")
class AlertsResource(MethodView):
    @blp.arguments(AlertListArgsSchema, location="query")
    @blp.response(200, page_schema(AlertSchema))
    def get(self, args):
        """Alerts of the caller's clinics: filter by `clinic_id`, `status` (open,
        acknowledged, resolved), `kind` and `wound_id`; cursor paging;
        `updated_since` for delta sync. Researchers have no access."""
        return services.list_alerts(db.session, args)


@blp.route("/alerts/<uuid:alert_id>")
class AlertResource(MethodView):
    @blp.response(200, AlertSchema)
    def get(self, alert_id):
        """One alert."""
        return services.get_alert(db.session, alert_id)


@blp.route("/alerts/<uuid:alert_id>/acknowledge")
class AcknowledgeResource(MethodView):
    @blp.arguments(AcknowledgeSchema)
    @blp.response(200, AlertSchema)
    @blp.alt_response(409, description="The alert is not open (acknowledged or resolved)")
    def post(self, data, alert_id):
        """Acknowledge an open alert with a note (audited). It stays in force
        until its condition clears, then resolves by itself."""
        return services.acknowledge(db.session, alert_id, data["note"])


@blp.route("/clinics/<uuid:clinic_id>/webhooks")
class ClinicWebhooksResource(MethodView):
    @blp.response(200, WebhookSchema(many=True))
    def get(self, clinic_id):
        """The clinic's webhook endpoints (clinic_admin); secrets are never shown again."""
        return services.list_webhooks(db.session, clinic_id)

    @blp.arguments(WebhookInSchema)
    @blp.response(201, WebhookCreatedSchema)
    def post(self, data, clinic_id):
        """Register an endpoint for `alert.opened`, `alert.acknowledged`,
        `alert.resolved` (clinic_admin). The response carries the signing
        `secret` (`whsec_...`) once. Private and loopback targets are refused
        unless WEBHOOK_ALLOW_PRIVATE is set."""
        return services.create_webhook(db.session, clinic_id, data)


@blp.route("/webhooks/<uuid:webhook_id>/disable")
class WebhookDisableResource(MethodView):
    @blp.response(200, WebhookSchema)
    def post(self, webhook_id):
        """Disable an endpoint: nothing more is sent to it."""
        return services.disable_webhook(db.session, webhook_id)


@blp.route("/webhooks/<uuid:webhook_id>/deliveries")
class WebhookDeliveriesResource(MethodView):
    @blp.arguments(DeliveryListArgsSchema, location="query")
    @blp.response(200, page_schema(DeliverySchema))
    def get(self, args, webhook_id):
        """Every delivery attempt to the endpoint, oldest first: the message
        (`webhook-id`), the answer's status code or the error, how long it took."""
        return services.list_deliveries(db.session, webhook_id, args)


@blp.route("/webhooks/<uuid:webhook_id>/messages/<string:message_id>/redeliver")
class RedeliverResource(MethodView):
    @blp.response(202, MessageSchema)
    @blp.alt_response(409, description="The webhook is disabled")
    def post(self, webhook_id, message_id):
        """Send a message again (same `webhook-id`), whatever happened to it."""
        return services.redeliver(db.session, webhook_id, message_id)


@blp.route("/clinics/<uuid:clinic_id>/alert-digest")
class DigestResource(MethodView):
    @blp.response(200, DigestSubscriptionSchema)
    def put(self, clinic_id):
        """Subscribe yourself to the e-mail digest of the clinic's open alerts."""
        return services.set_digest(db.session, clinic_id, True)

    @blp.response(200, DigestSubscriptionSchema)
    def delete(self, clinic_id):
        """Unsubscribe yourself from the clinic's alert digest."""
        return services.set_digest(db.session, clinic_id, False)
