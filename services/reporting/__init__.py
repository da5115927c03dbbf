"""Reporting (tổng hợp, báo cáo): figures built from the events it keeps (cases, times, breaches, counseling,
the units' monthly reports and their completeness), the 2023–2027 plan tracker with its reminders, and
exports as CSV, XLSX and DOCX. See docs/reporting.md."""
