"""The clinics a page offers each user to pick (app.clinics.services.clinic_choices)."""

from app.auth.models import User
from app.clinics.services import clinic_choices
from app.core.access import Principal
from app.extensions import db


def _principal(actor):
    return Principal.of(db.session.get(User, actor.user_id))


def _names(actor):
    return [row.name for row in clinic_choices(db.session, _principal(actor))]


def test_each_role_picks_from_its_own_clinics(
    app, factory, clinic, other_clinic, admin, nurse, outsider, clinic_admin, researcher
):
    third = factory.clinic("Alpha Clinic")
    url = f"/api/v1/clinics/{clinic}/research-grants"
    with app.app_context():
        # Admins pick any clinic, by name; staff only their own.
        assert _names(admin) == ["Alpha Clinic", "North Wound Clinic", "South Wound Clinic"]
        assert _names(nurse) == ["North Wound Clinic"]
        assert _names(outsider) == ["South Wound Clinic"]
        # A researcher's membership is not access: only a live grant is.
        assert _names(researcher) == []
    grant = clinic_admin.post(url, json={"researcher_id": str(researcher.user_id)}).json
    factory.add_membership(researcher.user_id, third)
    with app.app_context():
        rows = clinic_choices(db.session, _principal(researcher))
        assert [(row.id, row.name) for row in rows] == [(clinic, "North Wound Clinic")]
    assert clinic_admin.delete(f"/api/v1/research-grants/{grant['id']}").status_code == 200
    with app.app_context():
        assert _names(researcher) == []
