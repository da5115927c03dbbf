"""Reporting (tổng hợp, báo cáo): figures by unit, month, category and status, built from events."""
