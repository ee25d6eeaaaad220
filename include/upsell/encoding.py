"""Detect the text encoding of an export and make a UTF-8 copy when it is CP932.

DuckDB reads UTF-8 only, and its own Shift_JIS decoding is unreliable (CP932 extension
characters such as ①, ㈱ and 髙 break), so CP932 files are transcoded here with Python's
``cp932`` codec, streaming, before DuckDB sees them. We never guess: a file that is
neither valid UTF-8 nor valid CP932 is refused with a message.
"""

from __future__ import annotations

import codecs
import gzip
import io
from pathlib import Path
from typing import BinaryIO

SAMPLE_BYTES = 1 << 20  # 1 MiB: enough for the header and many rows of Japanese text
CHUNK = 1 << 20


class EncodingError(ValueError):
    """The file's bytes are neither UTF-8 nor CP932."""


def open_binary(path: Path, compressed: bool) -> BinaryIO:
    return gzip.open(path, "rb") if compressed else open(path, "rb")  # noqa: SIM115


def _decodes(sample: bytes, encoding: str) -> bool:
    """True when ``sample`` decodes; a multibyte character cut at the end is allowed."""
    try:
        codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(sample: bytes) -> str:
    """Return ``utf-8-sig``, ``utf-8`` or ``cp932`` for the first bytes of a file.

    UTF-8 is tried before CP932 because Japanese text in UTF-8 is almost never valid
    CP932 byte sequences, while the reverse (CP932 bytes valid as UTF-8) does not happen
    for Japanese text at all. Pure ASCII is UTF-8. A row further down that turns out not
    to be UTF-8 is rejected by DuckDB and quarantined with its line, never mis-decoded.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in sample:
        # ASCII in UTF-16 is "valid" CP932 byte by byte; NUL never occurs in a text export.
        raise EncodingError("unknown encoding: NUL bytes or a UTF-16 byte order mark "
                            "(save the export as UTF-8 or Shift_JIS/CP932 CSV)")
    if _decodes(sample, "utf-8"):
        return "utf-8"
    if _decodes(sample, "cp932"):
        return "cp932"
    raise EncodingError("unknown encoding: the bytes are neither UTF-8 nor CP932 (Shift_JIS)")


def sniff(path: Path, compressed: bool) -> tuple[str, bytes]:
    """Read the first bytes (decompressed) and detect the encoding."""
    with open_binary(path, compressed) as fh:
        sample = fh.read(SAMPLE_BYTES)
    return detect_encoding(sample), sample


def transcode_to_utf8(path: Path, compressed: bool, encoding: str, out: Path) -> None:
    """Stream ``path`` decoded with ``encoding`` into ``out`` as UTF-8 (no BOM).

    Line ends and quoting are kept byte for byte (``newline=""``), so line numbers match.
    """
    with open_binary(path, compressed) as raw, open(out, "w", encoding="utf-8", newline="") as dst:
        text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
        offset = 0
        try:
            while chunk := text.read(CHUNK):
                dst.write(chunk)
                offset += len(chunk)
        except UnicodeDecodeError as exc:
            raise EncodingError(
                f"not valid {encoding} after about {offset:,} characters: {exc.reason}") from exc
