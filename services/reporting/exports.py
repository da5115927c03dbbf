"""CSV and XLSX renderings of report tables.

CSV is UTF-8 with a byte-order mark so Excel opens Vietnamese text correctly; XLSX keeps numbers as
numbers and dates as dates (openpyxl), one sheet per table, a bold header row.

Formula injection: a text cell beginning with `=`, `+`, `-`, `@`, tab or carriage return (a unit, an
activity or a plan item named by a user) would be run as a formula by a spreadsheet; such text is
written with a leading apostrophe, in CSV and XLSX alike (numbers and dates are left as they are).
"""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font

from services.reporting.tables import Sheet
from shared.spreadsheet import FORMULA_STARTS as FORMULA_STARTS
from shared.spreadsheet import neutral


def to_csv(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutral(h) for h in sheet.headers])
    for row in sheet.rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else neutral(v) for v in row])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def to_xlsx(sheets: list[Sheet]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True, name="Times New Roman")
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.name[:31])
        ws.append([neutral(sheet.title)])
        ws["A1"].font = Font(bold=True, size=13, name="Times New Roman")
        ws.append([neutral(h) for h in sheet.headers])
        for cell in ws[2]:
            cell.font = bold
        for row in sheet.rows:
            ws.append([neutral(v) for v in row])
        for i, header in enumerate(sheet.headers, start=1):
            width = max([len(str(header)), *(len(str(r[i - 1])) for r in sheet.rows if r[i - 1] is not None)])
            ws.column_dimensions[ws.cell(row=2, column=i).column_letter].width = min(max(10, width + 2), 60)
        ws.freeze_panes = "A3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
