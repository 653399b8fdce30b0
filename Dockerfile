# Herald's image: the bot (the same command as `make run`) or, with `python bot.py worker`, a worker.
# Settings come from the environment (compose.yaml passes .env); Herald's own files live in /data.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    DATABASE_URL=sqlite:////data/herald.db \
    METRICS_PORT=9464

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

# A user of its own, owning nothing but /data: the code stays read-only to the process.
RUN groupadd --system --gid 10001 herald \
    && useradd --system --uid 10001 --gid herald --no-create-home --shell /usr/sbin/nologin herald \
    && mkdir -p /data \
    && chown herald:herald /data \
    && chmod 700 /data
COPY --chown=root:root . ./

USER herald
VOLUME ["/data"]
# The webhook listener (WEBHOOK_PORT) and /healthz with /metrics (METRICS_PORT).
EXPOSE 8080 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "scripts/healthcheck.py"]
CMD ["python", "bot.py"]
