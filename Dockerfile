FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
RUN pip install . \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin chaingate \
    && chown chaingate /app

# The server needs no root; /app stays writable for the default SQLite file.
USER chaingate
EXPOSE 8000
CMD ["chaingate", "serve", "--host", "0.0.0.0", "--port", "8000"]
