"""Clinic pages: server-rendered HTML for clinic staff, signed in with a cookie session."""
