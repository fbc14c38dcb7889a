"""Autologging for scikit-learn and XGBoost."""
