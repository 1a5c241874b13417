"""The business wallet: its identity credentials, messages, e-invoices, presentations, trust
registry and verifier, and their API. Above tenancy (wallet/tenancy/), below passports."""
