from django.db import connections

from credentials.did_web import service_did
from credentials.key_store import complete_did_key_sets, ensure_key


def ensure_service_key(sender, using="default", **kwargs):
    """The service's own did:web needs its keys as soon as the database exists, and every DID
    of ours the key types added since it was made (published before their first use)."""
    from credentials.models import KeyPair

    if KeyPair._meta.db_table in connections[using].introspection.table_names():
        ensure_key(service_did())
        complete_did_key_sets()
