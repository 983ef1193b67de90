"""Unbound extension singletons, initialised in create_app()."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from app.core.db import Base
from app.core.errors import ProblemApi

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = ProblemApi()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
