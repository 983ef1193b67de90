"""Shared infrastructure: database base, errors, pagination, ETags, audit, permissions."""
