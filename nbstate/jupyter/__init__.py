"""Jupyter host: nbstate states as anywidget models, and the server-side helpers."""
