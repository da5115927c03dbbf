# One image for every Cầu Nối process; the command chooses the service:
#   docker run IMAGE services.intake serve      (entrypoint is `python -m`)
#   docker run IMAGE services.routing migrate
#   docker run IMAGE aiosmtpd -n -l 0.0.0.0:1025 -c aiosmtpd.handlers.Debugging   (development mail sink)
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MALLOC_ARENA_MAX=2 \
    HTTP_HOST=0.0.0.0 \
    PYTHONPATH=/app

WORKDIR /app

# Dependencies first (pinned in pyproject.toml), so code changes do not reinstall them. The code itself
# runs from /app (not site-packages): services find `data/` next to `services/`.
COPY pyproject.toml README.md ./
RUN mkdir -p shared services && touch shared/__init__.py services/__init__.py \
    && pip install . \
    && pip uninstall -y cau-noi

COPY shared ./shared
COPY services ./services
COPY data ./data
COPY deploy ./deploy
COPY scripts ./scripts
RUN useradd --system --uid 10001 --home /app caunoi
USER caunoi

ENTRYPOINT ["python", "-m"]
CMD ["services.reporting", "serve"]
