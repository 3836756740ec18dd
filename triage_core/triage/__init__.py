"""The triage pipeline: pure batch function, engines, prediction and training."""
