"""Reusable test machinery: a TCP proxy that cuts a backing service (proxy.py) and a real
gunicorn server wired through such proxies (server.py)."""
