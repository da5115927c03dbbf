"""Vietnamese text handling: everything stored or sent is NFC-normalised UTF-8."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator


def nfc(value: str) -> str:
    """NFC-normalise and trim: `Hòa` typed with a combining accent equals the precomposed `Hòa`."""
    return unicodedata.normalize("NFC", value).strip()


NfcStr = Annotated[str, AfterValidator(nfc)]
