"""Imports from other tracking servers: MLflow's database or REST API into our store.

``registry.store.mlflow_source`` (MLflow's database) and ``mlflow_rest`` (an MLflow server) read
a source (the ``MlflowSource`` contract in ``source``),
``runner`` compares it with the target and writes through ``registry.store.imports``,
``artifact_copy`` copies artifact trees where ``uris`` maps them, ``checks`` verifies the result
and ``report`` says what happened.
"""
