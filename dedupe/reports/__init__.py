"""Renderers of a ``RunResult``: terminal text, JSON, CSV of pairs."""

from dedupe.reports.csv_report import render_csv
from dedupe.reports.json_report import SCHEMA_VERSION, render_json, result_to_dict
from dedupe.reports.terminal import render_text

__all__ = ["SCHEMA_VERSION", "render_csv", "render_json", "render_text", "result_to_dict"]
