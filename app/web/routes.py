"""Clinic pages: server-rendered HTML over the same services as the API.

The blueprint, its cookie session, CSRF check, error pages and shared helpers
are in app/web/blueprint.py; each area's pages are in a module of its own.
Importing them here puts every page route on ``bp``, which app/__init__.py
registers (``from app.web.routes import bp``).
"""

from __future__ import annotations

from app.web import (
    alerts,
    audit,
    exports,
    overview,
    patients,
    photos,
    sign_in,
    smart,
    wound_list,
    wounds,
)
from app.web.blueprint import bp

# The page modules are imported for their routes (the @bp decorators).
PAGE_MODULES = (
    sign_in,
    overview,
    patients,
    wound_list,
    wounds,
    photos,
    audit,
    exports,
    alerts,
    smart,
)

__all__ = ["PAGE_MODULES", "bp"]
