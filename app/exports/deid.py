"""De-identification rules for research exports (HIPAA Safe Harbor as the baseline).

Pure functions, standard library only, so every rule is tested without a database.

Safe Harbor (45 CFR 164.514(b)(2)) removes 18 identifiers. What that means here:
- names, MRN, contact data, user names/e-mails, client addresses, free-text notes,
  photos and photo metadata are never read into an export row at all;
- record ids are replaced by keyed pseudonyms (``pseudonym``): stable for one
  recipient, unlinkable between recipients;
- dates become whole days relative to each patient's own day zero (date ordinals
  minus the day zero's, in app/exports/rows.py),
  so no calendar date leaves the service;
- ages above 89 are aggregated into "90+" (``age_label``);
- free-text body sites are reduced to a coarse controlled list (``site_class``),
  because the free text can carry anything a user typed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import date

PSEUDONYM_HEX_CHARS = 32  # 128 bits: collision-free in practice, valid as a FHIR id

SITE_CLASSES: tuple[str, ...] = (
    "head_neck",
    "breast",
    "chest_wall",
    "axilla",
    "abdomen",
    "pelvis_perineum",
    "upper_limb",
    "lower_limb",
    "back",
    "other",
)

# Ordered: the first rule whose keyword occurs in the text wins, so the more
# specific sites (axilla before upper limb, popliteal fossa before "back" of the
# knee, inframammary fold before chest) come first.
_SITE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("axilla", ("axilla", "axillary", "armpit")),
    (
        "breast",
        ("breast", "mammary", "inframammary", "nipple", "areola", "mastectomy", "lumpectomy"),
    ),
    (
        "pelvis_perineum",
        (
            "perine",
            "perianal",
            "anal",
            "anus",
            "vulva",
            "vagin",
            "scrot",
            "penis",
            "penile",
            "groin",
            "inguinal",
            "pelvi",
            "gluteal",
            "glute",
            "buttock",
            "sacr",
            "coccy",
            "natal cleft",
            "intergluteal",
            "pubic",
            "genital",
        ),
    ),
    (
        "lower_limb",
        (
            "popliteal",
            "knee",
            "thigh",
            "leg",
            "shin",
            "calf",
            "ankle",
            "foot",
            "feet",
            "heel",
            "toe",
            "hip",
            "femor",
            "tibia",
            "fibula",
            "lower limb",
            "lower extremity",
        ),
    ),
    (
        "upper_limb",
        (
            "arm",
            "elbow",
            "forearm",
            "wrist",
            "hand",
            "finger",
            "thumb",
            "shoulder",
            "deltoid",
            "upper limb",
            "upper extremity",
            "antecubital",
        ),
    ),
    (
        "head_neck",
        (
            "head",
            "neck",
            "scalp",
            "face",
            "facial",
            "cheek",
            "nose",
            "nasal",
            "lip",
            "ear",
            "auricular",
            "forehead",
            "chin",
            "jaw",
            "mandib",
            "maxill",
            "orbit",
            "eyelid",
            "temple",
            "occipit",
            "parotid",
            "submandibular",
            "cervical",
            "supraclavicular",
            "oral",
            "larynx",
            "laryn",
            "thyroid",
        ),
    ),
    (
        "chest_wall",
        ("chest", "thora", "sternum", "sternal", "rib", "clavic", "pectoral", "infraclavicular"),
    ),
    (
        "abdomen",
        ("abdom", "umbilic", "epigastr", "hypochondr", "flank", "stoma", "belly", "periumbilical"),
    ),
    ("back", ("back", "spine", "spinal", "scapula", "lumbar", "dorsal", "paraspinal", "loin")),
)

_WORD = re.compile(r"[a-z]+")


def site_class(body_site: str | None) -> str:
    """Map a free-text body site to one of ``SITE_CLASSES``.

    Case- and punctuation-insensitive keyword match on word starts ("popliteal
    fossa" -> lower_limb, "Left inframammary fold" -> breast, "sacrum" ->
    pelvis_perineum); anything unrecognised, empty or None -> "other". Only the
    class ever leaves the service: the free text may hold anything a user typed.
    """
    if not body_site:
        return "other"
    words = _WORD.findall(body_site.lower())
    text = " ".join(words)
    for cls, keywords in _SITE_RULES:
        for kw in keywords:
            if " " in kw:
                if kw in text:
                    return cls
            elif any(_starts(w, kw) for w in words):
                return cls
    return "other"


# Words that start with a keyword but name something else.
_FALSE_FRIENDS: dict[str, tuple[str, ...]] = {
    "ear": ("early", "earlier"),
    "lip": ("lipoma",),
    "anal": ("analg", "analys"),
    "rib": ("ribbon",),
    "hip": ("hipp",),
    "arm": ("armpit",),
    "leg": ("legion",),
    "head": ("headache",),
    "hand": ("handl",),
    "back": ("background",),
}


def _starts(word: str, keyword: str) -> bool:
    return word.startswith(keyword) and not word.startswith(_FALSE_FRIENDS.get(keyword, ("\0",)))


def pseudonym_key(secret_key: str, recipient_id: uuid.UUID | str) -> bytes:
    """The per-recipient key: HMAC-SHA256(SECRET_KEY, "export-pseudonym:" + recipient).

    Deriving a key per recipient makes one researcher's ids unlinkable to another's
    without the server secret, while two exports for the same researcher agree.
    """
    return hmac.digest(
        secret_key.encode(), f"export-pseudonym:{recipient_id}".encode(), hashlib.sha256
    )


def pseudonym(key: bytes, kind: str, record_id: uuid.UUID | str) -> str:
    """Keyed pseudonym of a record: first 128 bits of HMAC-SHA256(key, kind:id), hex.

    A keyed hash (not a plain hash) because ids are guessable UUIDs only in theory,
    and because the key makes pseudonyms recipient-specific.
    """
    digest = hmac.digest(key, kind.encode() + b":" + _id_text(record_id), hashlib.sha256)
    return digest.hex()[:PSEUDONYM_HEX_CHARS]


def _id_text(record_id: uuid.UUID | str) -> bytes:
    return (record_id.hex if isinstance(record_id, uuid.UUID) else str(record_id)).encode()


class Pseudonymizer:
    """``pseudonym`` for many records, computed as HMAC by hand (RFC 2104) from
    pre-keyed SHA-256 states that are copied per record: same output, a fraction
    of the cost of building an HMAC object each time."""

    def __init__(self, key: bytes) -> None:
        block = key.ljust(64, b"\0")  # keys are 32-byte digests: no pre-hash needed
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __call__(self, kind: str, record_id: uuid.UUID | str) -> str:
        inner = self._inner.copy()
        inner.update(kind.encode() + b":" + _id_text(record_id))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:PSEUDONYM_HEX_CHARS]

    def for_kind(self, kind: str) -> Callable[[str], str]:
        """``pseudonym(key, kind, hex_id)`` for ids given as 32-digit hex text.

        The inner state already holds ``kind:``, so each call hashes only the id:
        the export's per-row cost (one call per assessment).
        """
        prefixed = self._inner.copy()
        prefixed.update(kind.encode() + b":")
        outer_state = self._outer

        def pseudonym_of(hex_id: str) -> str:
            inner = prefixed.copy()
            inner.update(hex_id.encode())
            outer = outer_state.copy()
            outer.update(inner.digest())
            return outer.hexdigest()[:PSEUDONYM_HEX_CHARS]

        return pseudonym_of

    def many_for_kind(self, kind: str) -> Callable[[Sequence[str]], list[str]]:
        """``for_kind(kind)`` over a list of hex ids at once: the same values,
        without a Python call per id (the assessments' per-row cost)."""
        prefixed = self._inner.copy()
        prefixed.update(kind.encode() + b":")
        inner_copy, outer_copy = prefixed.copy, self._outer.copy

        def pseudonyms_of(hex_ids: Sequence[str]) -> list[str]:
            out: list[str] = []
            append = out.append
            for hex_id in hex_ids:
                inner = inner_copy()
                inner.update(hex_id.encode())
                outer = outer_copy()
                outer.update(inner.digest())
                append(outer.hexdigest()[:PSEUDONYM_HEX_CHARS])
            return out

        return pseudonyms_of


def age_years(birth_date: date, on: date) -> int:
    """Completed years of age on ``on``."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def age_label(birth_date: date, on: date) -> str:
    """Age in whole years as text, with every age over 89 reported as "90+".

    Safe Harbor (45 CFR 164.514(b)(2)(i)(C)): ages over 89 are aggregated into a
    single category of age 90 or older.
    """
    years = age_years(birth_date, on)
    return "90+" if years > 89 else str(max(years, 0))


def one_of(value: str | None, allowed: tuple[str, ...], fallback: str = "other") -> str | None:
    """A controlled-vocabulary value passed through only when it is in ``allowed``.

    Columns that are free strings in the database are never copied verbatim.
    """
    if value is None:
        return None
    return value if value in allowed else fallback
