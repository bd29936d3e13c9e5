# optirace: the page, the slide embed, the exports and the JSON API, served by `optirace serve`.
#   docker build -t optirace . && docker run --rm -p 8000:8000 -v optirace-data:/data optirace
FROM python:3.11-slim

# glibc's malloc: two arenas per process, and blocks of 256 KiB or more mapped on their own, so that a worker's
# memory levels off and is given back after a burst (optirace serve sets both too, if unset: server/cli.py).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=262144 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OPTIRACE_CACHE_DIR=/var/cache/optirace \
    PATH="/opt/optirace/bin:$PATH"

# As on a fresh machine (README: python3 -m venv .venv && .venv/bin/pip install -e .), but not editable:
# the wheel carries core/, server/, templates/ and static/, so the source is not needed afterwards.
# A TrueType font for the GIF, PNG and SVG exports (without one they fall back to Pillow's bitmap font).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build
COPY pyproject.toml README.md ./
COPY core/ core/
COPY server/ server/
COPY templates/ templates/
COPY static/ static/
RUN python3 -m venv /opt/optirace \
    && /opt/optirace/bin/pip install . \
    && rm -rf /build

# Short links live in SQLite in /data (OPTIRACE_DATA_DIR), a volume the non-root user owns and writes;
# OPTIRACE_DATABASE_URL=postgresql://… puts them in PostgreSQL instead (several containers sharing them).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin optirace \
    && mkdir -p /data /var/cache/optirace && chown optirace:optirace /data /var/cache/optirace
ENV OPTIRACE_DATA_DIR=/data
VOLUME ["/data"]
USER optirace
WORKDIR /home/optirace
# The engine's compiled code goes to $OPTIRACE_CACHE_DIR (numba's on-disk cache), written here by the
# user who reads it: compiled once at build time, so the container's first /healthz does not wait for it.
RUN python -c "from core.race import warm_up; warm_up()"

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD ["optirace", "serve", "--host", "0.0.0.0"]
