"""The partner REST API (docs/architecture.md, URLs): products, passports and their credentials,
restricted data for entitled partners, verification, and the W3C VC-API endpoints. Thin views over
services and selectors; errors as application/problem+json (problems.py)."""
