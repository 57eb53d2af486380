"""Text to search terms, the same way for documents and queries (pure).

Chinese has no spaces between words, and neither SQLite's unicode61 tokenizer nor
PostgreSQL's default parser cuts a run of Han characters into words: "燃气泄漏" would be
one token and "燃气" would not find it. So both sides are cut here:
- a run of CJK characters becomes its overlapping bigrams ("燃气泄漏" -> 燃气 气泄 泄漏);
  a lone character stays itself;
- anything else alphanumeric becomes lower-case words ("GD20261122-000123" ->
  gd20261122 000123); punctuation separates runs (no bigram spans "燃气，泄漏").
A query word becomes a phrase of its bigrams: any two-character word matches exactly the
documents that contain it, and a longer word matches documents containing the whole word.
A query of one CJK character has no bigram; callers fall back to a substring scan.
"""

from __future__ import annotations

import re
import unicodedata

# Han (incl. extension A and compatibility), kana, hangul, bopomofo.
_CJK = re.compile(
    "[\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]"
)


def _runs(text: str) -> list[tuple[bool, str]]:
    """(is_cjk, run) pieces of letters/digits; everything else separates."""
    runs: list[tuple[bool, str]] = []
    current: list[str] = []
    current_cjk = False
    for ch in unicodedata.normalize("NFKC", text):
        cjk = bool(_CJK.match(ch))
        if cjk or ch.isalnum():
            if current and cjk != current_cjk:
                runs.append((current_cjk, "".join(current)))
                current = []
            current.append(ch)
            current_cjk = cjk
        elif current:
            runs.append((current_cjk, "".join(current)))
            current = []
    if current:
        runs.append((current_cjk, "".join(current)))
    return runs


def _cjk_terms(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def document_terms(*parts: str | None) -> str:
    """Space-separated terms to store in the index (one string for all fields)."""
    terms: list[str] = []
    for part in parts:
        for is_cjk, run in _runs(part or ""):
            terms.extend(_cjk_terms(run) if is_cjk else [run.lower()])
    return " ".join(terms)


def query_phrases(query: str) -> list[list[str]]:
    """Each query word as a phrase (list of consecutive terms); all must match."""
    phrases: list[list[str]] = []
    for is_cjk, run in _runs(query):
        phrases.append(_cjk_terms(run) if is_cjk else [run.lower()])
    return phrases


def needs_substring_scan(query: str) -> bool:
    """True when a query word is a single CJK character (no bigram to look up)."""
    return any(is_cjk and len(run) == 1 for is_cjk, run in _runs(query))


def fts5_match(phrases: list[list[str]]) -> str:
    """An FTS5 MATCH expression: quoted phrases joined by AND (terms hold no quotes)."""
    return " AND ".join('"' + " ".join(p) + '"' for p in phrases)


def tsquery_phrases(phrases: list[list[str]]) -> str:
    """A PostgreSQL to_tsquery('simple', ...) text: phrases with <->, joined by &."""
    return " & ".join("(" + " <-> ".join(_ts_quote(t) for t in p) + ")" for p in phrases)


def _ts_quote(term: str) -> str:
    return "'" + term.replace("'", "''") + "'"
