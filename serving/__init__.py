"""Scoring: serve a logged or registered model behind a prediction endpoint."""
