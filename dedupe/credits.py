"""Article text -> the credits and datelines that name a source.

Input: an article's text as read, the wire names of ``attribute.wires`` and the outlets of the
other cluster members. Output: ``Credit`` records with exact offsets. Recognised forms:

- wire datelines: "JAKARTA (Reuters) -", "(ANTARA) -", "(AP/Reuters) —";
- outlet datelines at the start of a paragraph: "KONTAN.CO.ID - JAKARTA", "JAKARTA, KOMPAS.com -";
- source lines: "Sumber: Reuters", "Fonte: Agência Brasil", a last line "(AFP)" or "— Reuters";
- attribution phrases: "dilansir Reuters", "mengutip Al Jazeera", "according to AP",
  "com informações da Folhapress".

A bare mention ("Reuters reported on Friday") is not a credit: newsrooms mention agencies in
stories they wrote themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from dedupe.types import Credit

_DASH = r"[-\u2013\u2014\u2012\u2212]"
_WORD_END = r"(?![\w])"
_PHRASES = (
    r"dilansir(?:\s+dari)?",
    r"melansir",
    r"mengutip",
    r"(?:seperti\s+|sebagaimana\s+)?dikutip(?:\s+dari)?",
    r"menurut\s+(?:laporan|kantor\s+berita)",
    r"laporan\s+kantor\s+berita",
    r"according\s+to",
    r"reported\s+by",
    r"citing",
    r"via",
    r"segundo\s+(?:a|o|as|os)",
    r"de\s+acordo\s+com\s+(?:a|o)",
    r"com\s+informa[çc][õo]es\s+d[aoe]s?",
    r"informou\s+a\s+ag[êe]ncia",
    r"(?:artikel\s+ini\s+)?(?:telah\s+)?tayang\s+(?:di|pertama\s+kali\s+di)",
    r"(?:first\s+appeared|originally\s+published|first\s+published)\s+(?:in|on|by)",
    r"publicad[oa]\s+originalmente\s+(?:em|por|no|na|pel[oa])",
    r"(?:news\s+)?agency",
    r"kantor\s+berita",
    r"ag[êe]ncia",
)


def _name_pattern(names: Iterable[str]) -> str:
    """Alternation of names; short all-caps acronyms (AP, AFP) only match in capitals."""
    parts = []
    for name in sorted(set(names), key=len, reverse=True):
        escaped = re.escape(name).replace(r"\ ", r"\s+")
        strict = len(name) <= 4 and name.upper() == name
        parts.append(escaped if strict else f"(?i:{escaped})")
    return "|".join(parts)


@lru_cache(maxsize=16)
def _patterns(wires: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    name = f"(?P<name>{_name_pattern(wires)})"
    return (
        (
            "dateline",
            re.compile(rf"\(\s*{name}{_WORD_END}(?:\s*/\s*[\w ]{{1,20}})?\s*\)\s*{_DASH}"),
        ),
        (
            "dateline",
            re.compile(
                rf"(?m)^[ \t]*(?:[A-Z][\w .'-]{{0,30}},\s*)?"
                rf"(?P<name>[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z]{{2,6}}){{1,3}})\s*{_DASH}"
            ),
        ),
        (
            "source_line",
            re.compile(
                r"(?im)^[ \t]*(?:sumber|source|sources|fonte|fontes|foto|photo)\s*:\s*"
                r"(?P<name>[^\n]{2,80}?)[ \t.]*$"
            ),
        ),
        *_named_patterns(wires),
    )


@lru_cache(maxsize=4096)
def _named_patterns(names: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Credit lines and attribution phrases naming one of ``names``."""
    name = f"(?P<name>{_name_pattern(names)})"
    return (
        (
            "source_line",
            re.compile(
                rf"(?m)^[ \t]*(?:{_DASH}\s*)?[(\[]?\s*{name}{_WORD_END}"
                r"(?:\s*[/,]\s*[\w ]{1,20})*\s*[)\]]?[ \t.]*$"
            ),
        ),
        (
            "attribution",
            re.compile(rf"(?i:\b(?:{'|'.join(_PHRASES)}))\s+(?:\w+\s+)?{name}{_WORD_END}"),
        ),
    )


@lru_cache(maxsize=4096)
def _mention(name: str) -> re.Pattern[str]:
    strict = len(name) <= 4 and name.upper() == name
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", 0 if strict else re.IGNORECASE)


def _key(name: str) -> str:
    return "".join(c for c in name.casefold() if c.isalnum())


def same_source(name: str, outlet: str) -> bool:
    """Whether a credited name and an outlet are the same source ("KONTAN.CO.ID" = "Kontan").

    Example:
        >>> same_source("KONTAN.CO.ID", "Kontan"), same_source("Reuters", "ANTARA")
        (True, False)
    """
    a, b = _key(name), _key(outlet)
    return bool(a and b) and (a.startswith(b) or b.startswith(a))


def find_credits(text: str, wires: Sequence[str], outlets: Sequence[str] = ()) -> list[Credit]:
    """Credits and datelines in ``text``, in text order, without overlaps.

    Args:
        text: The article as read.
        wires: News agency names (``attribute.wires``).
        outlets: Other names worth recognising in attribution phrases (the cluster's outlets).

    Example:
        >>> [(c.name, c.kind) for c in find_credits("JAKARTA (Reuters) - Harga naik.", ["Reuters"])]
        [('Reuters', 'dateline')]
    """
    wire_names = tuple(dict.fromkeys(w for w in wires if w.strip()))
    # The cluster's outlets are sorted so every member of a cluster shares one compiled set.
    outlet_names = tuple(sorted({o for o in outlets if o.strip()} - set(wire_names)))
    patterns = _patterns(wire_names) if wire_names else ()
    if outlet_names:
        patterns = (*patterns, *_named_patterns(outlet_names))
    found: list[Credit] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in patterns:
        for match in pattern.finditer(text):
            start, end = match.span("name")
            if any(start < b and a < end for a, b in taken):
                continue
            name = match.group("name").strip()
            wire = next((w for w in wire_names if _mention(w).search(name)), None)
            if (
                kind == "source_line"
                and wire is None
                and not any(_mention(o).search(name) for o in outlet_names)
            ):
                continue  # "Foto: Dok. pribadi" credits nobody we know
            taken.append((start, end))
            found.append(
                Credit(
                    name=wire if wire is not None and kind != "dateline" else name,
                    kind=kind,
                    start=start,
                    end=start + len(name),
                    wire=wire is not None,
                )
            )
    found.sort(key=lambda c: c.start)
    return found
