# syntax=docker/dockerfile:1
# One image for both processes: `modelyard server` (default) or `modelyard serve URI`.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY registry ./registry
COPY serving ./serving
RUN pip install --no-cache-dir build==1.2.2 \
 && python -m build --wheel --outdir /dist

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REGISTRY_HOST=0.0.0.0 \
    REGISTRY_AUTH=true \
    REGISTRY_DATABASE_URL=sqlite:////data/mlflow.db \
    REGISTRY_ARTIFACT_ROOT=/data/artifacts \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
RUN groupadd --system --gid 10001 modelyard \
 && useradd --system --uid 10001 --gid modelyard --home-dir /data --create-home modelyard
COPY --from=build /dist/*.whl /tmp/
COPY requirements/lock.txt /tmp/lock.txt
# The same pinned versions CI verified; every flavor, so the image serves any model it registers.
RUN pip install --no-cache-dir -c /tmp/lock.txt "$(ls /tmp/*.whl)[all,postgres,mysql,s3]" \
 && rm /tmp/*.whl /tmp/lock.txt
COPY docker/entrypoint.sh /usr/local/bin/modelyard-entrypoint
COPY docker/healthcheck.py /usr/local/bin/modelyard-healthcheck
USER 10001:10001
WORKDIR /data
EXPOSE 5000 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "/usr/local/bin/modelyard-healthcheck"]
ENTRYPOINT ["/usr/local/bin/modelyard-entrypoint"]
CMD ["server"]
