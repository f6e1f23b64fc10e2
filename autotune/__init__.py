"""Autotuning: tasks, measurement, the XGBoost cost model and records (not built yet)."""
