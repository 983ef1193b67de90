"""gunicorn settings, read by any gunicorn started from the repository root
(`make run`, or `gunicorn wsgi:app` in production).

The access log names the method, the path, the status, the size and the time,
never the query string or the referrer: a URL such as
/api/v1/patients?mrn=... carries a patient identifier, and logs carry no PHI.
"""

access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)ss "%(a)s"'
