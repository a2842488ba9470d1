# authz-service: gunicorn serving create_app() as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AUTHZ_DATABASE_URL=sqlite:////data/authz.db \
    AUTHZ_LOG_SPOOL_DIR=/data/spool \
    AUTHZ_POLICY_DIR=/app/policies

WORKDIR /app
# tests/system/test_wheel.py reads these COPY lines and makes the same install without Docker:
# only these files, `pip install -c constraints.txt`, then `authz demo` and this CMD.
COPY pyproject.toml constraints.txt README.md ./
COPY authz_service ./authz_service
# gunicorn-h1c (gunicorn's C request parser) is published as source only: a compiler for the
# build, removed again in the same layer.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install --no-cache-dir -c constraints.txt . \
    && apt-get purge -y --auto-remove gcc libc6-dev && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app authz \
    && mkdir -p /data/spool && chown -R authz /data
COPY policies ./policies

USER authz
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
# `authz serve` runs gunicorn (gthread workers, JSON access log, metrics of every worker).
CMD ["authz", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2", "--threads", "1"]
