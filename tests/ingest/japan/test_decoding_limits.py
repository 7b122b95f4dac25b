"""Japan MOF CSV decoding edge cases: a file mixing UTF-8 and Shift_JIS lines is refused (not silently
garbled), and a field beyond the csv module's size limit is a clear error, not a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.japan.client import JapanFormatError, decode_csv
from ingest.japan.parse import JapanResponseError, read_rows

GOOD = Path(__file__).resolve().parents[2] / "fixtures" / "bad_inputs" / "japan" / "shift_jis.csv"


def _header_and_row() -> tuple[bytes, bytes]:
    text, _ = decode_csv(GOOD.read_bytes())
    header, row = text.splitlines()[:2]
    return header.encode("ascii"), row.encode("ascii", "replace")


def test_a_file_mixing_utf8_and_shift_jis_lines_is_refused_with_both_lines() -> None:
    # GIVEN a UTF-8 file (unit "頭" on line 2) with one line written in Shift_JIS (line 3)
    header, row = _header_and_row()
    utf8_line = row.replace(b",NO,", ",頭,".encode())
    sjis_line = row.replace(b",NO,", ",頭,".encode("cp932"))
    content = b"\n".join([header, utf8_line, sjis_line]) + b"\n"
    # WHEN decoded  THEN refused, naming the UTF-8 line and the first line that is not
    with pytest.raises(JapanFormatError, match=r"mixed encodings: line 2 is UTF-8 but line 3 is not"):
        decode_csv(content)


def test_a_genuine_shift_jis_file_still_decodes() -> None:
    header, row = _header_and_row()
    content = b"\n".join([header, row.replace(b",NO,", ",頭,".encode("cp932"))]) + b"\n"
    text, encoding = decode_csv(content)
    assert encoding == "shift_jis" and ",頭," in text


def test_a_field_beyond_the_csv_limit_is_a_clear_error() -> None:
    # GIVEN a row whose unit field holds 200,000 characters (csv's default limit is 131,072)
    header, row = _header_and_row()
    content = b"\n".join([header, row.replace(b",NO,", b"," + b"x" * 200_000 + b",")]) + b"\n"
    # THEN the file is rejected with the line number, which parse_landed quarantines whole
    with pytest.raises(
        JapanResponseError, match=r"japan/x.csv: not a readable CSV at line 2: field larger than field limit"
    ):
        read_rows(content, "japan/x.csv")
