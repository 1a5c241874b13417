# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VAR_DIR=/app/var
WORKDIR /app

RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 app

COPY pyproject.toml constraints.txt ./
COPY core ./core
COPY config ./config
COPY credentials ./credentials
COPY passports ./passports
COPY wallet ./wallet
COPY webhooks ./webhooks
COPY manage.py ./
RUN pip install -c constraints.txt . && mkdir -p /app/var && chown app /app/var \
    && DJANGO_DEBUG=1 python manage.py collectstatic --noinput

USER app
EXPOSE 8000
# No gunicorn access log: the app logs one line per request itself (config/observability.py),
# without query strings, which can carry one-time secrets (OpenID4VCI offer links).
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
