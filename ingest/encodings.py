"""Text as its author's program saved it: byte-order marks, UTF-8, UTF-16, or a Windows code page.

Bank downloads and the household's own files (CSV saved by Excel, YAML by an old editor) come in
all of these; every reader of a user's file decodes it here, so none of them fails on an accent.
"""

from __future__ import annotations

import codecs


def decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Text and the encoding it was read with: byte-order marks first, then UTF-8, then cp1252.
    CR CR LF (a CRLF file whose lines were ended again by a tool that writes CRLF) ends one line,
    not two, so that every row keeps its physical line."""
    text, encoding = _decoded(data, declared)
    return text.replace("\r\r\n", "\r\n"), encoding


def _decoded(data: bytes, declared: str | None) -> tuple[str, str]:
    if declared:
        encoding = "utf-8-sig" if declared == "utf-8" else declared
        return data.decode(encoding), declared
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    # UTF-16 without a byte-order mark: every other byte of ASCII text is zero.
    sample = data[:400]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:
        return data.decode("utf-16-le"), "utf-16-le"
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) // 4:
        return data.decode("utf-16-be"), "utf-16-be"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"
