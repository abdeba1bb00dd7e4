# The Urban Model Server image: Daphne serving ums_site.asgi, on uvloop (ums_site/server.py). Configure with environment
# variables (see README); run `python manage.py migrate` once per release.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN useradd --create-home --uid 1000 ums

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY manage.py ./
COPY ums_site ums_site
COPY registry registry
COPY jobs jobs
COPY ogc ogc
# collectstatic needs settings only; the key is a throwaway for this build step.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p /app/media && chown ums /app/media

USER ums
EXPOSE 8000
CMD ["python", "-m", "ums_site.server", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "ums_site.asgi:application"]
