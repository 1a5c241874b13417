"""The scopes an API key (wallet.models.ApiToken) may carry: one list for the operations of every
app, here in the bottom layer so the API kit (core/api/permissions.py) can check them."""

from django.db import models


class Scope(models.TextChoices):
    PRODUCTS_READ = "products:read", "Read products"
    PRODUCTS_WRITE = "products:write", "Create and update products"
    PASSPORTS_READ = "passports:read", "Read passports, their credentials and restricted data"
    PASSPORTS_ISSUE = "passports:issue", "Issue passports"
    PASSPORTS_REVOKE = "passports:revoke", "Revoke, suspend and reinstate passports"
    CREDENTIALS_ISSUE = "credentials:issue", "Issue credentials through the VC-API"
    MESSAGES_READ = "messages:read", "Read the message box"
    MESSAGES_SEND = "messages:send", "Send validated messages and read receipts"
    INVOICES_READ = "invoices:read", "Read e-invoices"
    INVOICES_SEND = "invoices:send", "Create and send e-invoices"
    WALLET_READ = "wallet:read", "Read the wallet's credentials and mandates"
    MANDATES_MANAGE = "mandates:manage", "Give, suspend, reinstate and revoke mandates"
    ATTESTATIONS_REQUEST = "attestations:request", "Ask a trust anchor to attest your " \
                                                   "identity"
    ATTESTATIONS_REVIEW = "attestations:review", "Review identity attestation requests " \
                                                 "(trust anchors)"
    OFFERS_CREATE = "offers:create", "Create OpenID4VCI credential offers for EU wallets"
    PRESENTATIONS_REQUEST = "presentations:request", "Request OpenID4VP presentations " \
                                                     "from EU wallets and read the results"
    WEBHOOKS_MANAGE = "webhooks:manage", "Subscribe endpoints to events (webhooks) and read " \
                                         "their deliveries"
