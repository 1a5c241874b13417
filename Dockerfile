# One image for web, worker and beat (docker-compose.yml picks the command). The build context is
# the repository minus .dockerignore; .ci/image-check runs these steps on that context without
# Docker (it reads the ENV lines below).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/app/var STATIC_ROOT=/app/static WEB_BIND=0.0.0.0:8000
WORKDIR /app

RUN useradd --create-home --uid 10001 app
COPY . .
# gettext only to compile the translations (the page in NL, DE, FR), then removed.
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && sh deploy/image-build.sh \
    && apt-get purge -y --auto-remove gettext && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /app/var && chown app /app/var

USER app
EXPOSE 8000
# gunicorn's settings (workers, no access log, metrics) are in config/gunicorn.py.
CMD ["gunicorn", "--config", "config/gunicorn.py", "config.wsgi"]
