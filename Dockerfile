# case monitor: the web app (gunicorn), and the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MONITOR_INSTANCE_PATH=/var/lib/monitor \
    WEB_CONCURRENCY=2

# PDF dossiers: Pango for WeasyPrint's text layout (the slim image has none), the Noto fonts
# for Khmer, Burmese and Arabic, HarfBuzz subsetting, and poppler-utils to inspect the PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-core libharfbuzz-subset0 poppler-utils \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
# Editable, so the app finds templates/ and its migrations beside the code in /app; the message
# catalogs compiled to .mo (they are not committed).
RUN pip install --no-deps -e . \
    && python -m monitor.catalogs compile \
    && useradd --system --create-home --home-dir /home/monitor --shell /usr/sbin/nologin monitor \
    && mkdir -p /var/lib/monitor \
    && chown monitor:monitor /var/lib/monitor

USER monitor
EXPOSE 8000

# gunicorn takes its number of workers from WEB_CONCURRENCY.

CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "monitor:create_app()"]
