"""Who may open which page: the one registry of page → roles that `pages.PageRoute` enforces before any
page runs (signed out: to the sign-in page; signed in with another role: the 403 page in Vietnamese).

Keys are route templates as FastAPI knows them (`/cases/{case_id}`), for every method of that path, or
`"POST /path"` for a method that only some of them may use (a monthly report others may read but only the
reporter may send). `PUBLIC` pages need no sign-in; `SIGNED_IN`
pages any person's role. `tests/web/test_roles.py` checks that every route of the app is registered here and
that each role not listed is refused. A new page: add its path here (or `register` it, for a path built at
start-up such as the accept/decline links)."""

from __future__ import annotations

from collections.abc import Iterable

PEOPLE = ("reporter", "member", "chair", "committee", "operator", "admin")
PUBLIC: frozenset[str] = frozenset()
SIGNED_IN: frozenset[str] = frozenset(PEOPLE)


def roles(*names: str) -> frozenset[str]:
    unknown = set(names) - set(PEOPLE)
    if unknown or not names:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return frozenset(names)


ADMIN = roles("admin")
OPERATOR = roles("operator")
READERS = roles("committee", "chair", "operator", "admin")  # of reports (reporting's own rule)

PAGES: dict[str, frozenset[str]] = {
    # everyone
    "/": PUBLIC,
    "/tu-van": PUBLIC,
    "/tra-cuu": PUBLIC,
    "/dang-nhap": PUBLIC,
    "/dang-xuat": PUBLIC,
    "/moi/{token}": PUBLIC,
    "/quen-mat-khau": PUBLIC,
    "/tai-khoan": SIGNED_IN,
    # the unit's reporting officer (and the chair, who reports too)
    "/bao-cao-vu-viec": roles("reporter", "chair"),
    "/vu-viec": roles("reporter", "chair", "committee"),
    "/bao-cao-thang": roles("reporter"),
    "/monthly-reports/{unit}/{period}": roles("reporter", "chair", "committee", "admin"),
    "POST /monthly-reports/{unit}/{period}": roles("reporter"),
    "/cases/{case_id}": roles("reporter", "member", "chair", "committee"),
    "/cases/{case_id}/tre": roles("reporter", "member", "chair"),
    "/cases/{case_id}/y-kien": roles("member"),
    # members
    "/phan-cong": roles("member"),
    "/phan-cong/{assignment_id}/{action}": roles("member"),
    "/counseling/{request_id}": roles("member", "chair"),
    "/counseling/{request_id}/tra-loi": roles("member"),
    "/plan/{item_id}": roles("chair", "committee", "operator", "admin"),
    # the chair and vice-chairs (the forwarding document is the committee's to print too)
    "/chu-nhiem": roles("chair"),
    "/chu-nhiem/vu-viec/{case_id}": roles("chair"),
    "/chu-nhiem/vu-viec/{case_id}/thanh-vien": roles("chair"),
    "/chu-nhiem/vu-viec/{case_id}/chuyen": roles("chair"),
    "/chu-nhiem/vu-viec/{case_id}/ket-thuc": roles("chair"),
    "/chu-nhiem/vu-viec/{case_id}/mo-lai": roles("chair"),
    "/chu-nhiem/vu-viec/{case_id}/to-trinh": roles("chair", "committee"),
    "/chu-nhiem/thanh-vien": roles("chair"),
    "/chu-nhiem/thanh-vien/nhap": roles("chair"),
    "/chu-nhiem/thanh-vien/nhap/ap-dung": roles("chair"),
    "/chu-nhiem/thanh-vien/{member_id}": roles("chair"),
    # the Standing Committee (and the chair, who follows what was forwarded)
    "/ban-thuong-vu": roles("committee", "chair"),
    "/cases/{case_id}/quyet-dinh": roles("committee"),
    # reports and their files
    "/thong-ke": READERS,
    "/thong-ke/{kind}": READERS,
    "/thong-ke/{kind}/tai-ve/{report}.{fmt}": READERS,
    "/thong-ke/{kind}/van-ban.docx": READERS,
    # administrators
    "/quan-tri/tai-khoan": ADMIN,
    "/quan-tri/tai-khoan/moi": ADMIN,
    "/quan-tri/tai-khoan/{account_id}": ADMIN,
    "/quan-tri/tai-khoan/{account_id}/loi-moi": ADMIN,
    "/quan-tri/tai-khoan/{account_id}/khoa": ADMIN,
    "/quan-tri/tai-khoan/{account_id}/mo-khoa": ADMIN,
    "/quan-tri/nhat-ky-truy-cap": ADMIN,
    "/quan-tri/nhat-ky-truy-cap.csv": ADMIN,
    "/quan-tri/danh-muc": ADMIN,
    "/quan-tri/danh-muc/don-vi/{code}": ADMIN,
    "/quan-tri/danh-muc/loai-vu-viec/{code}": ADMIN,
    # operators
    "/van-hanh/thu-chet": OPERATOR,
    "/van-hanh/thu-chet/{service}": OPERATOR,
    "/van-hanh/thu-chet/{service}/phat-lai": OPERATOR,
    "/van-hanh/thu-chet/{service}/{event_id}/phat-lai": OPERATOR,
    "/van-hanh/tin-gui": OPERATOR,
    "/van-hanh/tin-gui/{delivery_id}/gui-lai": OPERATOR,
}


def register(path: str, allowed: Iterable[str] | frozenset[str]) -> None:
    """Add a page whose path is only known at start-up (a prefix from the settings)."""
    PAGES[path] = allowed if isinstance(allowed, frozenset) else roles(*allowed)


def allowed_roles(path: str, method: str = "GET") -> frozenset[str] | None:
    """The roles that may use the page with `method` (`PUBLIC`: anyone), or None when it is not registered."""
    found = PAGES.get(f"{method} {path}")
    return found if found is not None else PAGES.get(path)


def may_open(path: str, role: str | None, method: str = "GET") -> bool:
    """Whether a person with `role` (None: signed out) may use the page; an unregistered page: no one."""
    allowed = allowed_roles(path, method)
    if allowed is None:
        return False
    return allowed == PUBLIC or (role is not None and role in allowed)
