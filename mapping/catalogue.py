"""The product catalogue: canonical products and the aliases the accounting system writes. Pure.

Seed "Twelve Steps", 6: product names as written are mapped to one canonical product, so "Widget Pro
2", "WIDGET-PRO-2" and "Widget Pro II" are one product. Two layers:

- :func:`normalise_product` makes a matching key: Unicode NFKC and case folding, accents dropped,
  anything not a letter or digit is a separator, letters and digits split ("Pro2" = "Pro 2"), and a
  Roman numeral from II to XX after the first word becomes its number ("II" = "2"). Single letters
  I, V, X stay letters ("Model X" is not "Model 10").
- :func:`parse_catalogue` reads the catalogue file's *text* (the caller reads the file) in TOML::

      [products]
      "Widget Pro 2" = ["WP2", "Widget Professional 2"]

  or CSV with a header ``product,alias`` (one alias per line; a line with only a product names it).
  A bad line or a duplicate alias (the same key for two products) is reported naming the alias and
  its line, and skipped; the rest of the file is used.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_ROMAN = {
    r: str(i)
    for i, r in enumerate(
        [
            "",
            "i",
            "ii",
            "iii",
            "iv",
            "v",
            "vi",
            "vii",
            "viii",
            "ix",
            "x",
            "xi",
            "xii",
            "xiii",
            "xiv",
            "xv",
            "xvi",
            "xvii",
            "xviii",
            "xix",
            "xx",
        ]
    )
    if len(r) >= 2
}
_SPLIT = re.compile(r"[^\w]+|_")
_ALNUM = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def normalise_product(name: str) -> str:
    """The matching key of a product name: ``"WIDGET-PRO-2"`` and ``"Widget Pro II"`` -> ``"widget pro 2"``."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = [w for part in _SPLIT.split(text) if part for w in _ALNUM.split(part) if w]
    return " ".join(_ROMAN.get(w, w) if i else w for i, w in enumerate(words))


@dataclass(frozen=True, slots=True)
class CatalogueProblem:
    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Matching key -> canonical product name. A name the catalogue does not know resolves to its
    matching key (``"widget max 3"``), so its spellings still count as one product."""

    by_key: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, name: str) -> str:
        key = normalise_product(name)
        return self.by_key.get(key, key)

    def resolve_many(self, names: Iterable[str]) -> list[str]:
        """:meth:`resolve` of each name, normalising each distinct spelling once (sales histories repeat
        a few hundred spellings a million times). An unknown product is named by the first spelling
        seen of it (``"Widget Max 3"`` rather than its key), for display."""
        memo: dict[str, str] = {}
        first: dict[str, str] = {}
        out: list[str] = []
        for n in names:
            r = memo.get(n)
            if r is None:
                key = normalise_product(n)
                r = self.by_key.get(key) or first.setdefault(key, n.strip())
                memo[n] = r
            out.append(r)
        return out

    def known(self, name: str) -> bool:
        return normalise_product(name) in self.by_key


def _add(
    by_key: dict[str, str], product: str, alias: str, line: int | None, where: str, problems: list[CatalogueProblem]
) -> None:
    key = normalise_product(alias)
    if not key:
        problems.append(CatalogueProblem(line, f"{where}: the name {alias!r} has no letters or digits; skipped"))
        return
    had = by_key.get(key)
    if had is None:
        by_key[key] = product
    elif had != product:
        problems.append(
            CatalogueProblem(
                line,
                (
                    f"{where}: alias {alias!r} of {product!r} already names {had!r}; it stays with {had!r}: "
                    "remove one of the two"
                ),
            )
        )


def parse_catalogue(text: str, filename: str) -> tuple[Catalogue, list[CatalogueProblem]]:
    """The catalogue in ``text`` (TOML when ``filename`` ends in .toml, else CSV) and its problems.

    A TOML file that does not parse at all is one problem (naming the file and the line) and an empty
    catalogue: the caller decides whether that stops the run (configuration, exit 2) or not.
    """
    by_key: dict[str, str] = {}
    problems: list[CatalogueProblem] = []
    if filename.lower().endswith(".toml"):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            return Catalogue({}), [CatalogueProblem(getattr(e, "lineno", None), f"{filename}: {e}; fix the TOML")]
        products = data.get("products")
        if not isinstance(products, dict):
            return Catalogue({}), [CatalogueProblem(None, f"{filename}: no [products] table; add one (see README)")]
        for product, aliases in products.items():
            where = f"{filename} [products] {product!r}"
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                problems.append(CatalogueProblem(None, f"{where}: aliases must be a list of strings; skipped"))
                continue
            _add(by_key, product, product, None, where, problems)
            for a in aliases:
                _add(by_key, product, a, None, where, problems)
        return Catalogue(by_key), problems
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().casefold() for h in next(reader, [])]
    if "product" not in header:
        return Catalogue({}), [CatalogueProblem(1, f"{filename} line 1: the header needs a 'product' column")]
    pi, ai = header.index("product"), (header.index("alias") if "alias" in header else None)
    for row in reader:
        line = reader.line_num
        where = f"{filename} line {line}"
        if not any(c.strip() for c in row):
            continue
        product = row[pi].strip() if pi < len(row) else ""
        if not product:
            problems.append(CatalogueProblem(line, f"{where}: no product name; skipped"))
            continue
        _add(by_key, product, product, line, where, problems)
        alias = row[ai].strip() if ai is not None and ai < len(row) else ""
        if alias:
            _add(by_key, product, alias, line, where, problems)
    return Catalogue(by_key), problems
