"""The cheap test `detect` asks first never hides a marker the detector chain would find."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from boltdeck.progress import DETECTORS, detect, readable
from boltdeck.progress.detectors import STARTS, candidate

from .helpers import FIXTURES, lines_of

PREFIXES = sorted({prefix for starts in STARTS.values() for prefix in starts})
# Lines each detector reads, beside the captures: dnf, zypper and pip have none of their own.
SAMPLES = [
    "Installing       : zip-3.0-35.el9.x86_64                    3/7",
    "Running scriptlet: zip-3.0-35.el9.x86_64 3/7",
    "(2/7): zip-3.0-35.el9.x86_64.rpm 1.2 MB/s | 266 kB 00:00",
    "Running transaction check",
    "Complete!",
    "(1/3) Installing: vim-9.0 ..........[done]",
    "Retrieving package vim-9.0-1.1.x86_64 (2/3), 1.5 MiB",
    "Checking for file conflicts: ........[done]",
    "Collecting requests==2.31.0",
    "Building wheels for collected packages: pyyaml",
    "Successfully installed requests-2.31.0",
    "  Downloading requests-2.31.0-py3-none-any.whl (62 kB)",
    "Notice: /Stage[main]/Main/File[/tmp/x]/ensure: defined content as '{sha256}ab'",
    "Get:1 http://deb.debian.org/debian bookworm/main amd64 sl amd64 5.02-1+b1 [12.6 kB]",
    "curl:  42%  1.2M",
    "\x1b7\x1b[39;0fProgress: [ 46%]\x1b8",
    "t=1700000000000000000 i=17 xxxxxxxxxxxxxxxx",
    "",
]


def full_chain(line: str):
    """What the detectors find without the cheap test first."""
    text = readable(line)
    return next((marker for detector in DETECTORS if text and (marker := detector(text)) is not None), None)


def test_every_capture_line_gets_the_marker_of_the_full_chain():
    lines = [line for path in sorted(FIXTURES.glob("*.out")) for line in lines_of(path.name)] + SAMPLES
    found = [(line, detect(line)) for line in lines]
    assert found == [(line, full_chain(line)) for line in lines]
    assert sum(marker is not None for _, marker in found) > 200  # the captures are full of markers


def test_every_sample_has_a_marker_but_the_plain_ones():
    assert [line for line in SAMPLES if detect(line) is None] == ["t=1700000000000000000 i=17 xxxxxxxxxxxxxxxx", ""]


def test_an_ordinary_line_is_not_a_candidate_and_a_percent_always_is():
    assert not candidate("t=1700000000000000000 i=17 xxxx")
    assert not candidate("Reticulating splines")
    assert candidate("Reading package lists... Done")
    assert candidate("done: 5 %")


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(st.sampled_from(PREFIXES), st.just("")),
    st.lists(st.sampled_from(list(" :()/[]%.0123456789abcXYZ\r\x1b78\t-") + PREFIXES), max_size=12).map("".join),
    st.sampled_from(["", " ", "\t", "\r", "x\r"]),
)
def test_no_line_built_from_the_detectors_own_words_loses_its_marker(prefix, rest, lead):
    line = lead + prefix + rest
    assert detect(line) == full_chain(line)
