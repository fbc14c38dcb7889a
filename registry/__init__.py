"""Modelyard: experiment tracking, model registry and serving that speaks MLflow's protocol."""

__version__ = "0.1.0"
