"""Bytes -> text: what kind of document this is (from magic numbers), and its character encoding.

Content is sniffed from the bytes, never trusted from a file name. Encodings, in order: a BOM,
the HTTP Content-Type charset, a `<meta>` declaration anywhere in the first 4 KiB, then strict
UTF-8, then strict GB18030, then charset_normalizer. Every GB-family label (gb2312, gbk, …) is
read as GB18030, its superset: decoding a GBK page as GBK loses the 4-byte characters
(notes/stack.md §4).
"""

from __future__ import annotations

import codecs
import re
from typing import Final, Literal

DocumentKind = Literal["html", "text", "pdf", "docx", "doc", "zip", "image"]

GB_FAMILY: Final = frozenset({"gb2312", "gbk", "x-gbk", "gb_2312-80", "csgb2312", "gb18030", "cp936", "euc-cn"})
_META_CHARSET: Final = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_CT_CHARSET: Final = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.IGNORECASE)
_HTML_SNIFF: Final = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|table|div|p|meta|title)\b", re.IGNORECASE)


def sniff_kind(data: bytes) -> DocumentKind:
    """Tell the document type from its first bytes."""
    head = data[:2048]
    if head.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if b"word/" in data[:65536] or b"[Content_Types].xml" in data[:65536] else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "image"
    if _HTML_SNIFF.search(head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1024]):
        return "html"
    return "text"


def canonical_encoding(label: str) -> str | None:
    """Python codec name for a charset label, GB family folded to gb18030; None if unknown."""
    name = label.strip().lower()
    if name in GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_encoding(data: bytes, content_type: str | None) -> str | None:
    if content_type:
        m = _CT_CHARSET.search(content_type)
        if m and (enc := canonical_encoding(m.group(1))):
            return enc
    m = _META_CHARSET.search(data[:4096])
    if m:
        return canonical_encoding(m.group(1).decode("ascii", "replace"))
    return None


def decode_text(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode document bytes; returns (text, encoding used)."""
    boms = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
    for bom, enc in boms:
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace"), enc
    declared = declared_encoding(data, content_type)
    candidates = [declared] if declared else []
    candidates += [e for e in ("utf-8", "gb18030") if e not in candidates]
    for enc in candidates:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes  # rare path: neither UTF-8 nor GB18030 decodes cleanly

    best = from_bytes(data).best()
    enc = canonical_encoding(best.encoding) if best else None
    enc = enc or declared or "gb18030"
    return data.decode(enc, errors="replace"), enc
