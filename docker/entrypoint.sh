#!/bin/sh
# Prometheus' multiprocess mode needs an empty directory before gunicorn forks its workers.
set -eu
: "${PROMETHEUS_MULTIPROC_DIR:=/tmp/prometheus}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
export PROMETHEUS_MULTIPROC_DIR
exec modelyard "$@"
