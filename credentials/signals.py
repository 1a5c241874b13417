from django.db import connections

from credentials.did_web import service_did
from credentials.key_store import ensure_key


def ensure_service_key(sender, using="default", **kwargs):
    """The service's own did:web needs a key as soon as the database exists."""
    from credentials.models import KeyPair

    if KeyPair._meta.db_table in connections[using].introspection.table_names():
        ensure_key(service_did())
