"""CSV exports defuse formulas in every form a spreadsheet reads as one (decision 036, 042): the
ASCII openers, their full-width and small forms, and any of them after blanks or control
characters; other text is written as it is."""

import pytest

from authz_service.api.console_export import csv_cell

DEFUSED = ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx",
           "\uff1dcmd|' /C calc'!A0", "\uff0b1", "\uff0d1", "\uff20SUM(A1)",  # full-width = + - @
           "\ufe66x", "\ufe62x", "\ufe63x", "\ufe6bx",  # small forms
           " =1+2", "  @x", "\n=1", "\x00=1", "\u200b=1", "\ufeff+1", "\u00a0-1", "\u3000\uff1d1", " \t\u200b\uff20x"]
KEPT = ["port", "1-2", "a=b", "", " ", "\u200b", "svc-1", "\uff21", "'=x", "x@y.example"]


@pytest.mark.parametrize("text", DEFUSED)
def test_a_formula_in_any_form_is_written_as_text(text):
    """The cell gets the leading apostrophe that spreadsheets show as text (R7.3 exports)."""
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", KEPT)
def test_other_text_is_written_as_it_is(text):
    assert csv_cell(text) == text
