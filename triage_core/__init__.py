"""ticket-triage core library: import, models, scoring, routing and attribution on DuckDB.

This package never imports streamlit.
"""

__version__ = "0.1.0"
