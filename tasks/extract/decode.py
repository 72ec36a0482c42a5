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

DocumentKind = Literal["html", "text", "pdf", "docx", "doc", "zip", "image", "binary"]

GB_FAMILY: Final = frozenset({"gb2312", "gbk", "x-gbk", "gb_2312-80", "csgb2312", "gb18030", "cp936", "euc-cn"})
_META_CHARSET: Final = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_CT_CHARSET: Final = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.IGNORECASE)
_HTML_SNIFF: Final = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|table|div|p|meta|title)\b", re.IGNORECASE)


# Raster images by their first bytes (what `sniff_kind` calls "image", OCR reads, and a page's
# pictures are inlined as).
IMAGE_MIME: Final = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif",
                     b"II*\x00": "image/tiff", b"MM\x00*": "image/tiff", b"BM": "image/bmp"}


def image_mime(data: bytes) -> str | None:
    """The MIME type of a raster image from its magic bytes, or None when it is none."""
    return next((mime for magic, mime in IMAGE_MIME.items() if data.startswith(magic)), None)


def sniff_kind(data: bytes) -> DocumentKind:
    """Tell the document type from its first bytes."""
    head = data[:2048]
    if head.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if b"word/" in data[:65536] or b"[Content_Types].xml" in data[:65536] else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"
    if image_mime(head):
        return "image"
    if head.startswith((b"\x7fELF", b"MZ", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf")) or _binary(head):
        return "binary"
    if _HTML_SNIFF.search(head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1024]):
        return "html"
    return "text"


_TEXT_CONTROLS: Final = frozenset(b"\t\n\r\f\x1b")


def _binary(head: bytes) -> bool:
    """Mostly control bytes (NUL and friends) in the first 2 KiB: no text encoding reads that as prose."""
    if not head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROLS)
    return controls > 0.1 * len(head)


def canonical_encoding(label: str) -> str | None:
    """Python codec name for a charset label, GB family folded to gb18030; None if unknown."""
    name = label.strip().lower()
    if name in GB_FAMILY:
        return "gb18030"
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    # rot13, zlib, hex, base64 … are codecs but not text encodings: such a label is ignored
    return info.name if getattr(info, "_is_text_encoding", True) else None


_NEVER_FAILS: Final = frozenset({"iso8859-1", "latin-1", "cp1252", "ascii", "iso8859-15", "windows-1252"})


def declared_encoding(data: bytes, content_type: str | None) -> str | None:
    """The encoding the HTTP header or the page declares; when they disagree, the one the bytes bear out.

    A server's default `charset=iso-8859-1` over a `<meta charset=gbk>` page is common. Latin-1
    decodes any bytes, so it is no evidence: a declaration that decodes strictly is preferred,
    the page's own before the header's, and a never-failing single-byte one only if nothing else fits.
    """
    header = None
    if content_type:
        m = _CT_CHARSET.search(content_type)
        header = canonical_encoding(m.group(1)) if m else None
    m = _META_CHARSET.search(data[:4096])
    meta = canonical_encoding(m.group(1).decode("ascii", "replace")) if m else None
    if header is None or meta is None or header == meta:
        return header or meta
    for enc in sorted((meta, header), key=lambda e: e in _NEVER_FAILS):
        try:
            data.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc
    return meta


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
