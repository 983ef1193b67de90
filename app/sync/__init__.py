"""Sync for devices on weak networks: a queue of requests in one round trip
(``POST /api/v1/sync``), one delta feed of a clinic's records
(``GET /api/v1/sync``) and resumable photo uploads (tus 1.0 at
``/api/v1/uploads``).

Above the record domains (a peer of summaries and exports): it reaches them
through their own routes (the batch) and their own schemas and services (the
feed, the finished upload), and none of them imports it.
"""
