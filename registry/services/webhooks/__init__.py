"""Webhooks: MLflow-compatible subscriptions, durable signed deliveries, SSRF-safe sending.

``manage`` validates and stores webhooks (secrets encrypted by ``crypto``), ``payloads`` builds
MLflow's JSON body, ``signing`` its ``X-MLflow-Signature``, ``ssrf`` decides which addresses a
delivery may reach, ``sender`` posts to the address it checked, and ``dispatcher`` is the worker
that fans events out to delivery rows, claims due ones, sends them and schedules retries.
"""
