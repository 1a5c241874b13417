"""Tenancy, which every app needs: organisations, their members and API keys, their legal
details, the credentials they hold and the mandates that let others act for them, and the
admin's scoping to one organisation. Imports only core/ and credentials/."""
