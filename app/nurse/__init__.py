"""The nurse capture app: an offline-first web app served at /app/ that talks
only to the public REST API (see app/nurse/routes.py and README, "Nurse app")."""
