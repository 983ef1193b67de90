"""The app as `make load` serves it: the production factory, with the Redis
key prefix and export queue of this run (so a load run never mixes with
another's rate-limit buckets or jobs on a shared Redis)."""

import os

from app import create_app

PREFIX = os.environ.get("LOAD_KEY_PREFIX", "woundtrack-load")

app = create_app({"RATELIMIT_KEY_PREFIX": PREFIX, "EXPORT_QUEUE": f"{PREFIX}-exports"})
