# The HyperSend app's web version (Flet), served on port 8550 without any CDN.
# Build: docker build -f Dockerfile.app -t hypersend-app .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FLET_WEB_NO_CDN=1

WORKDIR /opt/hypersend
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[app]" \
    && useradd --system --uid 10001 --home-dir /home/hypersend --create-home \
       --shell /usr/sbin/nologin hypersend

USER hypersend
EXPOSE 8550

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8550/', timeout=4)"]

# API_URL: where the app's users reach the API (through nginx: https://your.host/api).
CMD ["hypersend", "app", "--web", "--host", "0.0.0.0", "--port", "8550"]
