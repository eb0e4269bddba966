"""Writes small real PDFs (text pages, optional outline and title) for parser tests."""

from __future__ import annotations


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(
    pages: list[str], *, title: str | None = None, outline: list[str] | None = None
) -> bytes:
    """A PDF with one Helvetica text line per page; ``outline`` names one bookmark per page."""
    objs: dict[int, str] = {}
    n = len(pages)
    font = 3
    page_ids = [4 + 2 * i for i in range(n)]
    next_id = 4 + 2 * n
    objs[font] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    for i, text in enumerate(pages):
        pid, cid = page_ids[i], page_ids[i] + 1
        stream = f"BT /F1 12 Tf 72 720 Td ({_escape(text)}) Tj ET"
        objs[cid] = f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream"
        objs[pid] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {cid} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>"
        )
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    objs[2] = f"<< /Type /Pages /Kids [{kids}] /Count {n} >>"
    catalog = "<< /Type /Catalog /Pages 2 0 R"
    if outline:
        root = next_id
        items = list(range(root + 1, root + 1 + len(outline)))
        next_id = items[-1] + 1
        objs[root] = (
            f"<< /Type /Outlines /First {items[0]} 0 R /Last {items[-1]} 0 R /Count {len(items)} >>"
        )
        for j, (item, name) in enumerate(zip(items, outline, strict=True)):
            links = f" /Next {items[j + 1]} 0 R" if j + 1 < len(items) else ""
            links += f" /Prev {items[j - 1]} 0 R" if j > 0 else ""
            objs[item] = (
                f"<< /Title ({_escape(name)}) /Parent {root} 0 R{links} "
                f"/Dest [{page_ids[j]} 0 R /XYZ 0 792 0] >>"
            )
        catalog += f" /Outlines {root} 0 R"
    objs[1] = catalog + " >>"
    info = None
    if title:
        info = next_id
        objs[info] = f"<< /Title ({_escape(title)}) /ModDate (D:20250102030405Z) >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets: dict[int, int] = {}
    for oid in sorted(objs):
        offsets[oid] = len(out)
        out += f"{oid} 0 obj\n{objs[oid]}\nendobj\n".encode("latin-1")
    size = max(objs) + 1
    xref = len(out)
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for oid in range(1, size):
        out += f"{offsets[oid]:010d} 00000 n \n".encode()
    trailer = f"<< /Size {size} /Root 1 0 R" + (f" /Info {info} 0 R" if info else "") + " >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
