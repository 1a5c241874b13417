"""Chains of evidence across two live instances of the service (two ports, two databases, two
workers): a cell maker on one issues cell passports and a lab there a conformity credential; the
battery maker on the other records the transformation and issues a battery passport linking
them. Its verdict carries the whole tree, verified; a revoked cell, a linked credential whose
bytes changed and an untrusted lab each turn their branch red, on the API and on the page."""

from __future__ import annotations

import time

from tests.support.factories import GTINS

CELLS = 3


def trusted_anchor_of_a(name, ports):
    # B recognises A's business register; A's second register is nobody's anchor at B.
    if name == "b":
        return {"TRUSTED_ANCHOR_DIDS": f"did:web:localhost%3A{ports['a']}:orgs:register-a"}
    return {}


def issue_passport(instance, key, product_id) -> dict:
    answer = instance.api("POST", "/api/v1/passports/", key, {"product": product_id})
    assert answer.status == 202, answer.text
    return instance.wait_for(f"/api/v1/passports/{answer.json()['id']}/", key, "state",
                             "issued")


def issue_evidence(instance, key, subject, kind="conformity") -> dict:
    answer = instance.api("POST", "/api/v1/evidence/", key, {"kind": kind, "subject": subject})
    assert answer.status == 202, answer.text
    return instance.wait_for(f"/api/v1/evidence/{answer.json()['id']}/", key, "state",
                             "issued")


def carbon_footprint(product_url, manufacturer_did, value=61.5) -> dict:
    return {"name": "Carbon footprint of the 75 kWh battery pack",
            "scheme": {"id": "https://example.org/schemes/battery-carbon",
                       "name": "Battery carbon footprint scheme"},
            "criterion": {"id": "https://example.org/schemes/battery-carbon/cf",
                          "name": "Carbon footprint per functional unit"},
            "topic": {"id": "https://example.org/topics/carbon-footprint",
                      "name": "Carbon footprint"},
            "metric": {"id": "https://example.org/metrics/kgco2e-per-kwh",
                       "name": "kg CO2e per kWh"},
            "value": value, "unit": "KGM", "conformance": True,
            "assessment_date": "2026-11-02",
            "product": {"id": product_url, "name": "75 kWh battery pack"},
            "issued_to": {"id": manufacturer_did, "name": "Acme Batteries B.V."}}


def verdict_of(instance, passport) -> dict:
    jwt = instance.request("GET", f"/passports/{passport['id']}",
                           headers={"Accept": "application/vc+jwt"}).text
    answer = instance.request("POST", "/api/v1/verify/", body={"credential": jwt})
    assert answer.status == 200, answer.text
    return answer.json()


def until(check, seconds: float = 60):
    """check() until it returns something true (a bound against hangs, not a timing)."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def branch(verdict, url):
    return next(b for b in verdict["evidence"]["links"] if b["url"] == url)


def page(instance, digital_link, lang="en") -> str:
    path = digital_link.split(instance.base_url, 1)[1]
    return instance.request("GET", f"{path}?lang={lang}",
                            headers={"Accept": "text/html"}).text


def test_a_battery_passport_on_one_service_proves_its_cells_and_lab_on_another(instances):
    a, b = instances("a", "b", env_for=trusted_anchor_of_a)
    made_a = a.setup({
        "anchors": [["register-a", "Register A"], ["register-x", "Register X"]],
        "orgs": [{"slug": "cells", "name": "Cellfab GmbH", "anchor": "register-a"},
                 {"slug": "lab", "name": "Voltcheck Test Laboratory", "anchor": "register-a",
                  "cab": True},
                 {"slug": "shadylab", "name": "Quicktest Lab", "anchor": "register-x",
                  "cab": True}],
        "products": [{"org": "cells", "gtin": GTINS[1], "serial": f"CELL-{n}",
                      "name": "NMC811 cell"} for n in range(CELLS)],
        "keys": ["cells", "lab", "shadylab"]})
    made_b = b.setup({
        "anchors": [["register-b", "Register B"]],
        "orgs": [{"slug": "batteries", "name": "Acme Batteries B.V.", "anchor": "register-b"}],
        "products": [{"org": "batteries", "gtin": GTINS[0], "serial": "SN-0001",
                      "name": "75 kWh battery pack"}],
        "keys": ["batteries"]})
    cells_key, lab_key = made_a["keys"]["cells"], made_a["keys"]["lab"]
    maker_key, [battery_id] = made_b["keys"]["batteries"], made_b["products"]
    battery_link = f"{b.base_url}/01/{GTINS[0]}/21/SN-0001"

    # A: the cell maker's passports, and the lab's credential about B's battery.
    cells = [issue_passport(a, cells_key, pk) for pk in made_a["products"]]
    dcc = issue_evidence(a, lab_key, carbon_footprint(battery_link,
                                                      made_b["dids"]["batteries"]))
    # B: the transformation (by the cells' GS1 Digital Links), the lab's credential linked,
    # and the battery passport.
    recorded = b.api("POST", f"/api/v1/products/{battery_id}/transformations", maker_key,
                     {"inputs": [c["digital_link"] for c in cells]})
    assert recorded.status == 202, recorded.text
    b.wait_for(f"/api/v1/evidence/{recorded.json()['id']}/", maker_key, "state", "issued")
    linked = b.api("POST", f"/api/v1/products/{battery_id}/evidence-links", maker_key,
                   {"url": dcc["credential_url"]})
    assert linked.status == 201, linked.text
    battery = issue_passport(b, maker_key, battery_id)

    verdict = verdict_of(b, battery)
    assert verdict["verified"], verdict["errors"]
    tree = verdict["evidence"]
    assert tree["verified"], tree
    assert tree["count"] == CELLS + 2
    lab = branch(verdict, dcc["credential_url"])
    assert lab["hash"] == "match" and lab["claim"]["topic"] == "Carbon footprint"
    assert lab["issuer"]["trusted"] and lab["issuer"]["name"] == "Voltcheck Test Laboratory"
    assert lab["issuer"]["anchor"] == made_a["dids"]["register-a"]
    for cell in cells:
        assert branch(verdict, cell["credential_url"])["issuer"]["name"] == "Cellfab GmbH"
    html = page(b, battery_link)
    assert "Carbon footprint: attested by Voltcheck Test Laboratory, verified" in html
    assert f"NMC811 cell: {CELLS} passports from Cellfab GmbH, verified" in html

    # A revoked cell passport turns its branch red, with the reason.
    revoked = a.api("POST", f"/api/v1/passports/{cells[1]['id']}/revoke", cells_key,
                    {"reason": "thermal runaway"})
    assert revoked.status == 202
    red = until(lambda: (v := verdict_of(b, battery)) and not branch(
        v, cells[1]["credential_url"])["verified"] and v)
    assert red, "the revoked cell never turned red"
    cell_branch = branch(red, cells[1]["credential_url"])
    assert any("revoked" in error for error in cell_branch["errors"])
    assert branch(red, cells[0]["credential_url"])["verified"]
    assert until(lambda: "revoked" in page(b, battery_link))

    # The lab's credential serves other bytes than the link was made for: a hash mismatch.
    other = issue_evidence(a, lab_key, carbon_footprint(battery_link,
                                                        made_b["dids"]["batteries"], 40.0))
    a.execute("UPDATE passports_evidencecredential SET jwt = (SELECT jwt FROM "
              "passports_evidencecredential WHERE id = %s) WHERE id = %s",
              [other["id"], dcc["id"]])
    mismatch = until(lambda: (v := verdict_of(b, battery)) and branch(
        v, dcc["credential_url"]).get("hash") == "mismatch" and v)
    assert mismatch, "the changed credential was never noticed"
    assert any(e.startswith("hash:") for e in branch(mismatch, dcc["credential_url"])["errors"])

    # A lab attested by a register B does not trust: its branch is red, saying so.
    shady = issue_evidence(a, made_a["keys"]["shadylab"],
                           carbon_footprint(battery_link, made_b["dids"]["batteries"], 12.0))
    assert b.api("POST", f"/api/v1/products/{battery_id}/evidence-links", maker_key,
                 {"url": shady["credential_url"]}).status == 201
    second = issue_passport(b, maker_key, battery_id)
    shady_branch = branch(verdict_of(b, second), shady["credential_url"])
    assert not shady_branch["verified"] and not shady_branch["issuer"]["trusted"]
    assert any("not a trusted anchor" in e for e in shady_branch["errors"])
    assert "Quicktest Lab" in until(lambda: (h := page(b, battery_link)) and
                                    "not trusted" in h and h)
