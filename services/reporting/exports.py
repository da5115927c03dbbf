"""CSV and XLSX renderings of report tables.

CSV is UTF-8 with a byte-order mark so Excel opens Vietnamese text correctly; XLSX keeps numbers as
numbers and dates as dates (openpyxl), one sheet per table, a bold header row.

Formula injection: a text cell beginning with `=`, `+`, `-`, `@`, tab or carriage return (a unit, an
activity or a plan item named by a user) would be run as a formula by a spreadsheet; such text is
written with a leading apostrophe, in CSV and XLSX alike (numbers and dates are left as they are).
"""

from __future__ import annotations

import io

from services.reporting.tables import Sheet
from shared.spreadsheet import FORMULA_STARTS, csv_bytes, neutral

__all__ = ["FORMULA_STARTS", "neutral", "to_csv", "to_xlsx"]


def to_csv(sheet: Sheet) -> bytes:
    return csv_bytes(sheet.headers, sheet.rows)


def to_xlsx(sheets: list[Sheet]) -> bytes:
    # openpyxl (~6 MiB of RSS) only once a spreadsheet is asked for, not in every reporting process.
    from openpyxl import Workbook
    from openpyxl.styles import Font

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
