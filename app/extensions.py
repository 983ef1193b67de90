"""Unbound extension singletons, initialised in create_app()."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint
from flask_sqlalchemy import SQLAlchemy

from app.core.db import Base
from app.core.errors import ProblemApi
from app.core.jsonbody import ProblemParser

db = SQLAlchemy(model_class=Base)
api = ProblemApi()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

# JSON bodies are read with the limits of app.core.jsonbody. Unknown
# query-string and form fields are errors too (webargs would drop them silently
# outside JSON bodies); each schema's Meta.unknown (RAISE) decides.
Blueprint.ARGUMENTS_PARSER = ProblemParser(unknown=None)
