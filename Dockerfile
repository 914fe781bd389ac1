# The HyperSend server. Build: docker build -t hypersend .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/hypersend
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[postgresql,mongodb]" \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin hypersend \
    && mkdir -p /data && chown hypersend:hypersend /data

USER hypersend
ENV DATA_ROOT=/data \
    HOST=0.0.0.0 \
    PORT=8000
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health\", timeout=4)"]

CMD ["hypersend", "serve"]
