"""Learned and rule-based models: category classifier, sentiment, severity, registry."""
