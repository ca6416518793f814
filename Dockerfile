FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The dependencies first, from pyproject.toml alone: a change to the source reuses this layer
# instead of installing every dependency again.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
COPY . .
RUN pip install --no-deps . \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin chaingate \
    && chown chaingate /app

# The server needs no root; /app stays writable for the default SQLite file. GraphiQL's
# scripts are package data (web/static): the image needs no CDN and no Node.js.
USER chaingate
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=3)"]
CMD ["chaingate", "serve", "--host", "0.0.0.0", "--port", "8000"]
