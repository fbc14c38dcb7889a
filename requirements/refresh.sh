#!/usr/bin/env bash
# Re-resolve every lock in this folder from pyproject.toml and the *.in files (uv is in [test]).
#   bash requirements/refresh.sh            # newest versions that satisfy the ranges
#   bash requirements/refresh.sh --upgrade-package NAME   # move one package, keep the rest
set -euo pipefail
cd "$(dirname "$0")/.."
compile=(uv pip compile --quiet --universal --python-version 3.11 --no-header "$@")

"${compile[@]}" pyproject.toml --extra dev -o requirements/lock.txt
# The official-client venvs share the project's model libraries, so a model pickled on one side
# loads on the other.
grep -E '^(numpy|pandas|scipy|scikit-learn|xgboost|cloudpickle|skops)==' requirements/lock.txt \
  > requirements/model-libs.txt
for name in mlflow3 mlflow2 mlflow-server mlserver-bench; do
  "${compile[@]}" "requirements/$name.in" -c requirements/model-libs.txt -o "requirements/$name.txt"
done
# The V2 clients the serving tests run (KServe's SDK, MLServer's types) send and read tensors
# only; KServe pins pandas below 3, so these two locks resolve on their own.
for name in kserve mlserver; do
  "${compile[@]}" "requirements/$name.in" -o "requirements/$name.txt"
done
