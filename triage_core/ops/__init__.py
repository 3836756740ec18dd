"""Support operations: priority, routing, scoring, backtest, feedback, analytics."""
