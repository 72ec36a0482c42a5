"""Scans -> `Document`: a PDF without a text layer, or an image, read by OCR into the same grids.

Many offices print the report, stamp it and publish the scan. Each page is rendered (pypdfium2)
or decoded (Pillow), set upright, and read with RapidOCR (PP-OCR models in ONNX, shipped inside
the `rapidocr-onnxruntime` wheel: nothing is downloaded, every run gives the same answer):

1. **Upright** (`upright`): text detection on a half-size copy; lines standing on end mean a page
   turned by 90°; the angle classifier on the longest lines tells a page upside down; the median
   slope of the detected lines is the skew, undone when over `MIN_SKEW_DEG`.
2. **Which pages** (`ruled_tables`): ruling lines are found with OpenCV morphology on every page
   (milliseconds); only pages with a ruled table, plus the first and last pages (title, organ,
   date), get the OCR pass. A scan with no ruled table anywhere is OCR'd on every page and its
   tables are read from the text lines, as a PDF without ruling lines is.
3. **Cells**: inside a ruled table every cell is a region enclosed by lines (connected
   components of what is not line), so cells spanning rows or columns come out as spans; each
   recognised text box goes to the cell holding its centre, and a cell left empty or holding
   something that is not a clean number is recognised again from its own ink. Red (a seal
   stamped over a table or the signature) is whitened before recognition.
4. **Tokens**: every cell becomes a `Token` with its recognised text and `confidence` (the lowest
   of its boxes); prose outside tables becomes lines. From here on labels, template detection,
   value parsing and the 勾稽 checks are the ones every reader shares.

Guard rails: `MAX_PAGES`, `MAX_PIXELS` per page and `PAGE_SECONDS` per page (checked between
pages; the reader process's time and memory budgets are raised to match, `budget.ask_for_more`). A scan
OCR cannot read is refused with where it looked ("OCR found no table on pages 1–5").
Without the optional dependencies a scan is refused naming the extra to install.
"""

from __future__ import annotations

import io
import re
import statistics
import time
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Final

from tasks.errors import UnsupportedFormat
from tasks.extract.document import Document, Grid, GridCell, Item, Token
from tasks.extract.text import is_page_mark

if TYPE_CHECKING:
    import numpy as np

EXTRA: Final = "pip install 'xxgk[ocr]'"
MAX_PAGES: Final = 30
MAX_PIXELS: Final = 40_000_000  # one page; A4 at 300 dpi is 8.7 million
RENDER_DPI: Final = 200  # PDF pages; RapidOCR reduces anything over 2000 px on its long side anyway
PAGE_SECONDS: Final = 30.0  # a page at 300 dpi takes 3–8 s here on one core
OCR_MEMORY_BYTES: Final = 2 * 1024 * 1024 * 1024  # text detection on a 2000-px page peaks near 1.1 GB
MIN_SKEW_DEG: Final = 0.15
SPECKLE_SHARE: Final = 4e-4
WORKING_LONG_SIDE: Final = 2339  # pixels: the long side of A4 at RENDER_DPI
MAX_UPSCALE: Final = 2.5
FRAME_PX: Final = 10  # pixels at the working size
_NUMERIC: Final = frozenset("0123456789.,-+%")
_CLEAN_NUMBER: Final = re.compile(r"^\d+(?:\.\d+)?$")
MAX_REREAD_CHARS: Final = 8  # longer text in a cell is a label: never read again from its crop


def ocr_available() -> bool:
    try:
        import cv2  # noqa: F401
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _require(what: str, source: str | None) -> None:
    if not ocr_available():
        raise UnsupportedFormat(f"{what}: reading it needs OCR, which is not installed ({EXTRA})", source=source)


@lru_cache(maxsize=1)
def engine() -> Any:
    """The RapidOCR engine of this process (models load once, ~0.4 s), on one thread: the
    flows run one reader process per core."""
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)


@dataclass(frozen=True, slots=True)
class Box:
    """One recognised text line: its upright-page rectangle, text and recognition confidence."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True, slots=True)
class Cell:
    row: int
    col: int
    rowspan: int
    colspan: int
    x0: int
    y0: int
    x1: int
    y1: int


@dataclass(frozen=True, slots=True)
class RuledTable:
    """A table found from its ruling lines: its box on the page and its cells on a logical grid."""

    x0: int
    y0: int
    x1: int
    y1: int
    cells: tuple[Cell, ...]
    n_rows: int
    n_cols: int


# ---------------------------------------------------------------------------------------- pages

def pdf_pages(data: bytes, source: str | None, dpi: int = RENDER_DPI) -> list[np.ndarray]:
    """Every page of a PDF rendered to RGB at `dpi` (page and pixel caps first)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnsupportedFormat(f"corrupted or truncated PDF ({exc})", source=source) from exc
    try:
        if len(pdf) > MAX_PAGES:
            raise UnsupportedFormat(f"scanned PDF of {len(pdf)} pages is over the {MAX_PAGES}-page OCR cap",
                                    source=source)
        pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            w, h = page.get_size()
            scale = dpi / 72
            if w * h * scale * scale > MAX_PIXELS:
                scale = (MAX_PIXELS / (w * h)) ** 0.5
            # pdfium renders BGR(A) unless asked for RGB: the red of a seal would read as blue
            pages.append(page.render(scale=scale, rev_byteorder=True).to_numpy()[:, :, :3].copy())
        return pages
    finally:
        pdf.close()


def image_pages(data: bytes, source: str | None) -> list[np.ndarray]:
    """The frames of an image (JPG, PNG, GIF, TIFF; several frames are several pages) as RGB."""
    import numpy as np
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise UnsupportedFormat(f"image of {image.width}×{image.height} pixels is over the "
                                    f"{MAX_PIXELS // 1_000_000}-megapixel cap", source=source)
        frames = []
        for i, frame in enumerate(ImageSequence.Iterator(image)):
            if i >= MAX_PAGES:
                raise UnsupportedFormat(f"image of more than {MAX_PAGES} frames is over the page cap", source=source)
            frames.append(np.asarray(frame.convert("RGB")))
        return frames
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedFormat(f"unreadable image ({type(exc).__name__}: {str(exc)[:120]})", source=source) from exc


# ------------------------------------------------------------------------------------- upright

def _detect(rgb: np.ndarray) -> list[np.ndarray]:
    import numpy as np

    boxes, _ = engine()(rgb, use_cls=False, use_rec=False)
    return [np.asarray(b, dtype="float32") for b in boxes or []]


def _long_lines(boxes: list[np.ndarray]) -> list[np.ndarray]:
    out = []
    for b in boxes:
        w = max(abs(b[1][0] - b[0][0]), abs(b[2][0] - b[3][0]))
        h = max(abs(b[3][1] - b[0][1]), abs(b[2][1] - b[1][1]))
        if max(w, h) > 3 * max(min(w, h), 1):
            out.append(b)
    return out


def _rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """Turn counter-clockwise by `degrees` (multiples of 90 exactly; others with a white border)."""
    import cv2
    import numpy as np

    if degrees % 360 == 0:
        return rgb
    if degrees % 90 == 0:
        return np.ascontiguousarray(np.rot90(rgb, int(degrees // 90) % 4))
    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))


def upright(rgb: np.ndarray) -> tuple[np.ndarray, int, float]:
    """The page turned upright and deskewed; with the quarter turns and the skew undone."""
    import cv2

    small = cv2.resize(rgb, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    turned = 0
    lines = _long_lines(_detect(small))
    tall = sum(1 for b in lines if abs(b[3][1] - b[0][1]) > abs(b[1][0] - b[0][0]))
    if lines and tall > len(lines) / 2:
        small, turned = _rotate(small, 90), 90
        lines = _long_lines(_detect(small))
    if lines:
        e = engine()
        longest = sorted(lines, key=lambda b: -abs(b[1][0] - b[0][0]))[:12]
        _, verdicts, _ = e.text_cls(e.get_crop_img_list(small, longest))
        upside_down = sum(1 for label, score in verdicts if label == "180" and score > 0.8)
        if upside_down > len(verdicts) / 2:
            small, turned = _rotate(small, 180), (turned + 180) % 360
            lines = _long_lines(_detect(small))
    rgb = _rotate(rgb, turned)
    slopes = [_slope(b) for b in lines if abs(b[1][0] - b[0][0]) > 60]
    skew = statistics.median(slopes) if len(slopes) >= 3 else 0.0
    if abs(skew) >= MIN_SKEW_DEG:
        rgb = _rotate(rgb, skew)
    return rgb, turned, skew


def _slope(box: np.ndarray) -> float:
    import math

    (x0, y0), (x1, y1) = box[0], box[1]
    return math.degrees(math.atan2(y1 - y0, x1 - x0))


# ------------------------------------------------------------------------------- ruled tables

def ruled_tables(rgb: np.ndarray) -> list[RuledTable]:
    """Tables found by their ruling lines, each with its cells on a logical grid."""
    import cv2
    import numpy as np

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    ink = cv2.adaptiveThreshold(255 - gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, -2)
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(w // 40, 10), 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(h // 80, 10))))
    lines = cv2.dilate(horizontal | vertical, np.ones((3, 3), np.uint8), iterations=1)
    count, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    tables = []
    for k in range(1, count):
        x, y, bw, bh, _ = stats[k]
        if bw < w / 4 or bh < h / 40:
            continue
        table = _cells(lines[y:y + bh, x:x + bw], x, y)
        if table is not None:
            tables.append(table)
    return sorted(tables, key=lambda t: t.y0)


def _cells(mask: np.ndarray, x: int, y: int) -> RuledTable | None:
    import cv2

    # A table continued on the next page has no line under its last row (nor, on that page, over its
    # first): the frame of the lines' box closes them, so those rows are cells too.
    # The frame is thick enough to meet lines that stop a few pixels short of the box's edge.
    mask = mask.copy()
    mask[:FRAME_PX, :] = mask[-FRAME_PX:, :] = 255
    mask[:, :FRAME_PX] = mask[:, -FRAME_PX:] = 255
    count, _, stats, _ = cv2.connectedComponentsWithStats(255 - mask, connectivity=4)
    h, w = mask.shape
    boxes = []
    for k in range(1, count):
        cx, cy, cw, ch, area = stats[k]
        if cw < 8 or ch < 8 or area < 0.5 * cw * ch:
            continue  # a speck between doubled lines, or the ragged outside of the table
        boxes.append((cx, cy, cx + cw, cy + ch))
    if len(boxes) < 4:
        return None
    xs = _edges([b[0] for b in boxes] + [b[2] for b in boxes])
    ys = _edges([b[1] for b in boxes] + [b[3] for b in boxes])

    def at(edges: list[float], v: float) -> int:
        return min(range(len(edges)), key=lambda i: abs(edges[i] - v))

    cells = []
    for x0, y0, x1, y1 in boxes:
        c0, c1, r0, r1 = at(xs, x0), at(xs, x1), at(ys, y0), at(ys, y1)
        if c1 <= c0 or r1 <= r0:
            continue
        cells.append(Cell(r0, c0, r1 - r0, c1 - c0, x + x0, y + y0, x + x1, y + y1))
    if len(cells) < 4:
        return None
    return RuledTable(x, y, x + w, y + h, tuple(cells), len(ys) - 1, len(xs) - 1)


def _edges(values: list[int], tolerance: float = 12) -> list[float]:
    """Cell edges clustered into the table's column (or row) boundaries."""
    out: list[list[int]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tolerance:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(group) / len(group) for group in out]


def at_working_size(rgb: np.ndarray) -> np.ndarray:
    """A small image enlarged to `WORKING_LONG_SIDE` (A4 at 200 dpi), at most `MAX_UPSCALE`×: at
    150 dpi and below, ruling lines are a pixel wide and lost to the line finder."""
    import cv2

    long_side = max(rgb.shape[:2])
    if long_side >= WORKING_LONG_SIDE:
        return rgb
    scale = min(WORKING_LONG_SIDE / long_side, MAX_UPSCALE)
    return cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def despeckle(rgb: np.ndarray) -> np.ndarray:
    """A speckled scan through a 3×3 median filter.

    Speckles are dark pixels with at most one dark neighbour: on clean pages (150–300 dpi, also
    JPEG-compressed) 1.4–2.6 per 10,000 pixels, on a page speckled at 0.2 % 5–6; over
    `SPECKLE_SHARE` the page is filtered.
    """
    import cv2
    import numpy as np

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    ink = (gray < 160).astype(np.uint8)
    neighbours = cv2.filter2D(ink, -1, np.ones((3, 3), np.float32), borderType=cv2.BORDER_CONSTANT)
    isolated = int(np.count_nonzero((ink == 1) & (neighbours <= 2)))
    if isolated < SPECKLE_SHARE * ink.size:
        return rgb
    return cv2.medianBlur(rgb, 3)


def whiten_red(rgb: np.ndarray) -> np.ndarray:
    """A seal stamped over a table or a signature: its red strokes whitened, black ink kept (where
    the two cross, black wins: its red channel is dark too)."""
    import numpy as np

    wide = rgb.astype(np.int16)
    red = (wide[:, :, 0] > 110) & (wide[:, :, 0] - np.maximum(wide[:, :, 1], wide[:, :, 2]) > 50)
    if not red.any():
        return rgb
    out = rgb.copy()
    out[red] = 255
    return out


# ------------------------------------------------------------------------------------ reading

def recognise(rgb: np.ndarray) -> list[Box]:
    """Every text line on an upright page with its text and confidence."""
    # No angle classifier: the page is upright already, and the classifier turns a lone "9" into a "6".
    result, _ = engine()(rgb, use_cls=False)
    out = []
    for quad, text, score in result or []:
        xs = [p[0] for p in quad]
        ys = [p[1] for p in quad]
        text = text.strip()
        if text:
            out.append(Box(min(xs), min(ys), max(xs), max(ys), text, float(score)))
    return out


def _rows_of(boxes: list[Box]) -> list[list[Box]]:
    """Boxes grouped into lines (vertical centres within half a line height), left to right."""
    rows: list[list[Box]] = []
    for b in sorted(boxes, key=lambda b: b.cy):
        if rows:
            last = rows[-1]
            centre = sum(x.cy for x in last) / len(last)
            height = statistics.median(x.height for x in last)
            if abs(b.cy - centre) <= max(height, b.height) / 2:
                last.append(b)
                continue
        rows.append([b])
    return [sorted(r, key=lambda b: b.x0) for r in rows]


def _joined(boxes: list[Box]) -> str:
    """The text of one cell: its lines top to bottom; two lines of digits stay two lines (joined)."""
    lines = ["".join(b.text for b in row) for row in _rows_of(boxes)]
    if len(lines) > 1 and all(set(ln) <= _NUMERIC for ln in lines):
        return "\n".join(lines)
    return "".join(lines)


def _line_text(row: list[Box]) -> str:
    parts = [row[0].text]
    for a, b in pairwise(row):
        gap = b.x0 - a.x1
        parts.append((" " if gap > 0.6 * max(a.height, b.height) else "") + b.text)
    return "".join(parts)


def page_items(boxes: list[Box], tables: list[RuledTable], rgb: np.ndarray | None = None
               ) -> list[tuple[float, Item]]:
    """A page's grids and prose lines, each with its vertical position.

    With the page image (`rgb`), a cell where line detection found nothing, or only something
    that is not a clean number, is recognised again from its own crop: a lone "0" in a wide cell
    is what detection misses most.
    """
    placed: list[tuple[float, Item]] = []
    free = list(boxes)
    for t in tables:
        inside = [b for b in free if t.x0 <= b.cx <= t.x1 and t.y0 <= b.cy <= t.y1]
        free = [b for b in free if b not in inside]
        holder: dict[int, list[Box]] = {}
        for b in inside:
            k = _cell_of(t, b)
            if k is not None:
                holder.setdefault(k, []).append(b)
        texts = {k: (_joined(mine), min(b.score for b in mine)) for k, mine in holder.items()}
        if rgb is not None:
            texts.update(_reread(rgb, t, texts))
        texts = {k: (clean_cell_text(text), score) for k, (text, score) in texts.items()}
        cells = []
        first_in_row: set[int] = set()
        for k, c in sorted(enumerate(t.cells), key=lambda kc: (kc[1].row, kc[1].col)):
            raw, confidence = texts.get(k, ("", None))
            token = Token(raw, new_row=c.row not in first_in_row, col=c.col, colspan=c.colspan,
                          confidence=confidence)
            first_in_row.add(c.row)
            cells.append(GridCell(token, c.row, c.col, c.rowspan, c.colspan))
        placed.append((t.y0, Grid(cells, t.n_rows, t.n_cols)))
    for row in _rows_of(free):
        placed.append((row[0].cy, _line_text(row)))
    return sorted(placed, key=lambda p: p[0])


def _reread(rgb: np.ndarray, t: RuledTable, texts: dict[int, tuple[str, float | None]]
            ) -> dict[int, tuple[str, float]]:
    """Recognise again, from the cell's own ink, the cells that are blank or not a clean number."""
    import cv2
    import numpy as np

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    crops: list[np.ndarray] = []
    keys: list[int] = []
    for k, c in enumerate(t.cells):
        text, _ = texts.get(k, ("", None))
        if text and (_CLEAN_NUMBER.match(text) or len(text) > MAX_REREAD_CHARS):
            continue
        inset_x = max(3, (c.x1 - c.x0) // 12)
        inset_y = max(3, (c.y1 - c.y0) // 8)
        x0, y0, x1, y1 = c.x0 + inset_x, c.y0 + inset_y, c.x1 - inset_x, c.y1 - inset_y
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        ink = np.argwhere(gray[y0:y1, x0:x1] < 150)
        if len(ink) < 12:
            continue  # nothing printed: a blank cell
        (iy0, ix0), (iy1, ix1) = ink.min(axis=0), ink.max(axis=0)
        pad = max(4, (iy1 - iy0) // 3)
        crop = rgb[max(y0 + iy0 - pad, 0):y0 + iy1 + pad + 1, max(x0 + ix0 - pad, 0):x0 + ix1 + pad + 1]
        crops.append(np.ascontiguousarray(crop[:, :, ::-1]))  # the models were trained on BGR
        keys.append(k)
    if not crops:
        return {}
    results, _ = engine().text_rec(crops)
    out: dict[int, tuple[str, float]] = {}
    for k, (text, score) in zip(keys, (r[:2] for r in results), strict=True):
        text = text.strip()
        before, before_score = texts.get(k, ("", None))
        if text and (not before or (_CLEAN_NUMBER.match(text) and float(score) >= (before_score or 0) * 0.9)):
            out[k] = (text, float(score))
    return out


_EDGE_MARKS: Final = ".,·'`:;_-—~|"


def clean_cell_text(text: str) -> str:
    """What OCR adds to a number in a ruled cell: a fleck of the ruling line or of noise beside it
    ("4.", ".0", "|7"), and a lone letter O for the digit. Anything else is kept as read."""
    bare = text.strip(_EDGE_MARKS + " ")
    if bare != text and bare and _CLEAN_NUMBER.match(bare) and not re.match(r"^\d+\.\d+$", text):
        return bare
    if text in ("O", "o", "〇", "D"):
        return "0"
    return text


def _cell_of(t: RuledTable, b: Box) -> int | None:
    best, distance = None, float("inf")
    for k, c in enumerate(t.cells):
        if c.x0 <= b.cx <= c.x1 and c.y0 <= b.cy <= c.y1:
            return k
        d = max(c.x0 - b.cx, b.cx - c.x1, 0) + max(c.y0 - b.cy, b.cy - c.y1, 0)
        if d < distance:
            best, distance = k, d
    return best if distance < 10 else None


def _pages_named(pages: list[int]) -> str:
    """[0, 1, 2, 4] -> 'pages 1–3, 5' (1-based, as a reader counts them)."""
    runs: list[list[int]] = []
    for p in pages:
        if runs and p == runs[-1][-1] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    text = ", ".join(f"{r[0] + 1}–{r[-1] + 1}" if len(r) > 1 else f"{r[0] + 1}" for r in runs)
    return ("page " if len(pages) == 1 else "pages ") + text


def read_pages(pages: list[np.ndarray], source: str | None, what: str, unit: str = "") -> Document:
    """OCR the pages that matter of a scan into a `Document` (see the module docstring)."""
    from tasks.extract import budget

    budget.ask_for_more(PAGE_SECONDS * len(pages), OCR_MEMORY_BYTES)
    uprights: list[tuple[np.ndarray, list[RuledTable]]] = []
    warnings: list[str] = []
    for i, rgb in enumerate(pages):
        rgb, turned, skew = upright(despeckle(at_working_size(rgb)))
        if turned or abs(skew) >= MIN_SKEW_DEG:
            warnings.append(f"OCR: page {i + 1} turned {turned}° and deskewed {skew:+.2f}°")
        uprights.append((rgb, ruled_tables(rgb)))
    with_tables = [i for i, (_, tables) in enumerate(uprights) if tables]
    wanted = sorted({*with_tables, 0, len(pages) - 1}) if with_tables else list(range(len(pages)))
    items: list[Item] = []
    for i in wanted:
        start = time.perf_counter()
        rgb, tables = uprights[i]
        boxes = recognise(whiten_red(rgb))
        for _, item in page_items(boxes, tables, rgb):
            if isinstance(item, str) and is_page_mark(item, bare_numbers=False):
                warnings.append(f"page mark {item!r} dropped")
            else:
                items.append(item)
        if time.perf_counter() - start > PAGE_SECONDS:
            raise UnsupportedFormat(f"OCR of page {i + 1} took over its {PAGE_SECONDS:g} s cap", source=source)
    if not items:
        raise UnsupportedFormat(f"{what}: OCR found no text on {_pages_named(list(range(len(pages))))}",
                                source=source)
    warnings.insert(0, f"OCR: read {_pages_named(wanted)} of {len(pages)}{unit}"
                       + (f" (ruled tables on {_pages_named(with_tables)})" if with_tables else
                          " (no ruled table: tables read from text lines)"))
    return Document(kind="scan", items=items, warnings=warnings, ocr_pages=_pages_named(wanted))


def read_scanned_pdf(data: bytes, source: str | None = None) -> Document:
    _require("scanned PDF, no text layer", source)
    return read_pages(pdf_pages(data, source), source, "scanned PDF (no text layer)")


def read_image(data: bytes, source: str | None = None) -> Document:
    _require("an image, not a document with a text layer", source)
    return read_pages(image_pages(data, source), source, "image")


_INLINE_IMAGE: Final = re.compile(
    r"""(<img\b[^>]*?\bsrc\s*=\s*["'])data:image/(?:png|jpe?g|gif|tiff?|bmp);base64,([^"']+)(?=["'])""", re.IGNORECASE)


def split_inline_images(html: str) -> tuple[str, list[bytes]]:
    """The images embedded in an HTML page (`<img src="data:image/png;base64,…">`), in page order,
    and the page with those URIs emptied (the text caps then measure the page, not its pictures)."""
    import base64
    import binascii

    images: list[bytes] = []

    def take(m: re.Match[str]) -> str:
        try:
            images.append(base64.b64decode(m.group(2), validate=False))
        except (binascii.Error, ValueError):
            pass
        return f"{m.group(1)}data:,"

    return _INLINE_IMAGE.sub(take, html), images


def with_image_tables(doc: Document, images: list[bytes], source: str | None) -> Document:
    """An HTML page whose tables are pictures: its own prose (title, headings, signature) followed
    by what OCR reads from its images."""
    _require("report tables printed as images", source)
    pages = [p for data in images for p in image_pages(data, source)][:MAX_PAGES]
    scanned = read_pages(pages, source, "images in the page", unit=" images in the page")
    return Document(kind="scan", items=[*doc.items, *scanned.items], title=doc.title, encoding=doc.encoding,
                    warnings=[*doc.warnings, *scanned.warnings], ocr_pages=scanned.ocr_pages)
