"""The administration pages' rules without I/O: the audit-log filter (days are Vietnam's), the CSV rows (no
child data, fields in the form's order, formulas neutralised), the units by era, the page registry."""

from __future__ import annotations

import csv
import io

from services.web import access
from services.web.domain import AUDIT_CSV_HEADERS, AuditFilter, audit_csv_rows, field_names, units_by_era
from shared.spreadsheet import csv_bytes, neutral


def test_the_audit_filter_reads_the_query_and_asks_intake_for_vietnam_s_days():
    chosen, errors = AuditFilter.from_query(
        {"ma-vu-viec": " tn-2026-000007 ", "tu": "2026-11-30", "den": "2026-12-01", "trang": "3"}
    )
    assert errors == {}
    assert chosen.params() == {
        "case_code": "TN-2026-000007",
        "since": "2026-11-30T00:00:00+07:00",
        "until": "2026-12-02T00:00:00+07:00",
    }
    assert chosen.page == 3
    assert chosen.query(4) == "ma-vu-viec=TN-2026-000007&tu=2026-11-30&den=2026-12-01&trang=4"
    assert chosen.query(1) == "ma-vu-viec=TN-2026-000007&tu=2026-11-30&den=2026-12-01"


def test_the_audit_filter_says_what_is_wrong_in_vietnamese():
    chosen, errors = AuditFilter.from_query({"tu": "2026-12-05", "den": "2026-12-01", "nguoi": "ai đó", "trang": "-1"})
    assert errors == {
        "den": "Ngày kết thúc không được trước ngày bắt đầu.",
        "nguoi": "Hãy chọn người trong danh sách.",
    }
    assert chosen.page == 1 and chosen.account_id == ""
    _, errors = AuditFilter.from_query({"tu": "30/11/2026"})
    assert errors == {"tu": "Ngày không hợp lệ (chọn ngày trong lịch)."}


def test_the_csv_rows_name_fields_in_the_form_s_order_and_neutralise_formulas():
    entries = [
        {
            "at": "2026-11-30T17:30:00+00:00",
            "account_id": "a1",
            "role": "chair",
            "action": "read_child",
            "case_code": "TN-2026-000001",
            "case_id": "c1",
            "fields": ["school", "name", "address"],
        }
    ]
    rows = audit_csv_rows(entries, {"a1": '=HYPERLINK("x")'})
    assert rows[0][0] == "01/12/2026 00:30", "Vietnam's time"
    assert rows[0][3:] == ["Chủ nhiệm", "Xem thông tin của trẻ", "TN-2026-000001", "c1", "Họ và tên, Nơi ở, Trường"]
    text = csv_bytes(AUDIT_CSV_HEADERS, rows).decode("utf-8")
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert parsed[0][0] == "Thời điểm" and parsed[1][2] == '\'=HYPERLINK("x")'
    assert neutral("-1") == "'-1" and neutral(5) == 5
    assert field_names([]) == "—"


def test_former_units_are_those_with_an_end():
    current, former = units_by_era(
        [
            {"code": "trang-bang", "name_vi": "Thị xã Trảng Bàng", "valid_to": "2025-06-30"},
            {"code": "phuong-an-tinh", "name_vi": "Phường An Tịnh", "valid_to": None},
        ]
    )
    assert [u["code"] for u in current] == ["phuong-an-tinh"] and [u["code"] for u in former] == ["trang-bang"]


def test_the_page_registry_knows_only_people_s_roles_and_refuses_what_it_does_not_know():
    for path, allowed in access.PAGES.items():
        assert allowed <= set(access.PEOPLE), path
    assert access.may_open("/tu-van", None)
    assert not access.may_open("/quan-tri/tai-khoan", None)
    assert access.may_open("/quan-tri/tai-khoan", "admin") and not access.may_open("/quan-tri/tai-khoan", "operator")
    assert access.may_open("/van-hanh/thu-chet", "operator") and not access.may_open("/van-hanh/thu-chet", "admin")
    assert access.may_open("/monthly-reports/{unit}/{period}", "admin")
    assert not access.may_open("/monthly-reports/{unit}/{period}", "admin", "POST")
    assert not access.may_open("/khong-dang-ky", "admin"), "an unregistered page is open to no one"
