"""Identity, permissions, the route rule table and the audit log writer.

Nothing here imports Flask: the server's request guard (``registry.server.hardening``) reads the
request and calls these functions; the store holds the rows (``registry.store.auth``).
"""
