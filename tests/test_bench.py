"""The benchmarks' reference app stays comparable with the product."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bot.runtime.usage import help_message

BARE_BOLT = Path(__file__).resolve().parent.parent / "bench" / "bare_bolt.py"


@pytest.fixture
def bare_bolt():
    spec = importlib.util.spec_from_file_location("bare_bolt", BARE_BOLT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bare_bolt_acks_with_the_products_english_help(bare_bolt):
    """bench/ack.py compares `/symmetry help` acks: both servers must send the same bytes (the
    reference's copy had fallen behind the product's help, 1,059 bytes against 1,737)."""
    ours = help_message("en")
    assert (ours["text"], ours["blocks"]) == (bare_bolt.HELP_TEXT, bare_bolt.HELP_BLOCKS)
