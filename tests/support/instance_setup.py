"""Set up one instance of the service for a cross-service test, in its own process and database:
`python -m tests.support.instance_setup '<spec JSON>'` prints what it made as one JSON line.

spec: {"anchors": [[slug, name]], "orgs": [{"slug", "name", "anchor", "cab"}],
       "products": [{"org", "gtin", "serial", "name"}], "keys": [slug, ...]}
out:  {"dids": {slug: did}, "keys": {slug: api key}, "products": [id, ...]}"""

from __future__ import annotations

import json
import os
import sys

import django


def main(spec: dict) -> dict:
    from tests.support.factories import api_key, organisation, trust_anchor
    from tests.support.public import make_product
    from tests.support.wallet import attest
    from wallet.tenancy.legal_models import LegalDetails
    from wallet.tenancy.models import Organisation

    made: dict[str, Organisation] = {}
    for slug, name in spec.get("anchors", []):
        made[slug] = trust_anchor(slug, name)
    for number, entry in enumerate(spec.get("orgs", []), start=1):
        org = organisation(entry["slug"], entry["name"])
        org.is_conformity_assessment_body = bool(entry.get("cab"))
        org.save()
        LegalDetails.objects.create(organisation=org, registry_id=f"9000000{number}",
                                    country="NL")
        if entry.get("anchor"):
            attest(org, made[entry["anchor"]])
        made[org.slug] = org
    products = [make_product(made[item["org"]], gtin=item["gtin"], serial=item["serial"],
                             name=item["name"]).pk for item in spec.get("products", [])]
    keys = {slug: api_key(made[slug])[1] for slug in spec.get("keys", [])}
    return {"dids": {slug: org.did for slug, org in made.items()}, "keys": keys,
            "products": products}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    print(json.dumps(main(json.loads(sys.argv[1]))))
