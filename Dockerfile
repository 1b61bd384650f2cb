# syntax=docker/dockerfile:1.7
# Mnemo's production image. Build: `docker build -t mnemo .`; run with docker-compose.yml or
# see docs/production.md. Configuration comes from the environment at run time: no setting and
# no secret is baked into the image.

ARG PYTHON_IMAGE=python:3.13-slim-bookworm

# -- builder: wheels of Mnemo and every runtime dependency ------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY engine ./engine
COPY adapters ./adapters
COPY jobs ./jobs
RUN pip wheel --wheel-dir /wheels .

# -- runtime: the installed wheels, no build tools, no sources --------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="mnemo" \
      org.opencontainers.image.description="Stateful LLM agents for Slack and Discord that remember." \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PATH=/opt/mnemo/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MNEMO_HTTP_HOST=0.0.0.0 \
    MNEMO_HTTP_PORT=8080 \
    MNEMO_DATA_DIR=/data \
    MNEMO_LOG_FORMAT=json

# The wheels are mounted, not copied, so they leave no layer behind.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    python -m venv /opt/mnemo \
    && /opt/mnemo/bin/pip install --no-cache-dir --no-index --find-links=/wheels mnemo \
    && /opt/mnemo/bin/pip uninstall --yes pip \
    && groupadd --system --gid 10001 mnemo \
    && useradd --system --uid 10001 --gid mnemo --home-dir /data --shell /usr/sbin/nologin mnemo \
    && mkdir -p /data \
    && chown mnemo:mnemo /data

# Everything the bot reads at run time is inside the image: prove it with the network off
# (tokenizer encodings and the local embedding model load from the installed package).
RUN --network=none python -c "\
import asyncio; \
from engine.embeddings import LocalEmbedder; \
from engine.tokens import TokenCounter; \
assert TokenCounter('gpt-4o-mini').count('hello') > 0; \
assert asyncio.run(LocalEmbedder().embed(['hello'])).shape[0] == 1"

USER mnemo:mnemo
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"MNEMO_HTTP_PORT\", \"8080\")}/healthz', timeout=2)"]

# Exec form: the bot is PID 1's child under `init: true` (compose) or PID 1 itself, and gets
# SIGTERM directly for a graceful stop.
STOPSIGNAL SIGTERM
ENTRYPOINT ["mnemo"]
CMD ["run"]
