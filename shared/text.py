"""Vietnamese text handling: everything stored or sent is NFC-normalised UTF-8."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator


def nfc(value: str) -> str:
    """NFC-normalise and trim: `Hòa` typed with a combining accent equals the precomposed `Hòa`."""
    return unicodedata.normalize("NFC", value).strip()


NfcStr = Annotated[str, AfterValidator(nfc)]


# The Youth Union of a unit, by the unit's kind (the first words of its name).
_YOUTH_UNION = (
    ("Thành phố ", "Thành Đoàn "),
    ("Thị xã ", "Thị Đoàn "),
    ("Huyện ", "Huyện Đoàn "),
    ("Phường ", "Đoàn phường "),
    ("Xã ", "Đoàn xã "),
    ("Thị trấn ", "Đoàn thị trấn "),
)


def youth_union(unit_name: str) -> str:
    """A unit as its Youth Union's standing committee: "Phường Tân Ninh" → "Ban Thường vụ Đoàn phường Tân
    Ninh", "Huyện Bến Cầu" → "Ban Thường vụ Huyện Đoàn Bến Cầu"."""
    unit_name = nfc(unit_name)
    for prefix, union in _YOUTH_UNION:
        if unit_name.startswith(prefix):
            return f"Ban Thường vụ {union}{unit_name[len(prefix) :]}"
    return f"Ban Thường vụ Đoàn {unit_name}"


def joined(items: list[str] | tuple[str, ...], conjunction: str = "và") -> str:
    """A Vietnamese list: "a", "a và b", "a, b và c" (`conjunction="hoặc"` for a choice), never "or"."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
