#!/bin/sh
# The image's build steps, run by the Dockerfile in /app and by .ci/image-check in a copy of the
# same build context (with a fresh virtual environment first on PATH).
set -eu
pip install --quiet -c constraints.txt .
# Build-time steps need no secrets: development settings, nothing stored.
DJANGO_DEBUG=1 python manage.py compilemessages --verbosity 0
DJANGO_DEBUG=1 python manage.py collectstatic --noinput --verbosity 0
