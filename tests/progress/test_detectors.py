"""The detectors on real captures of apt, dpkg and Puppet, and on text that is none of them."""

from __future__ import annotations

import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from boltdeck.progress import detect, readable

from .helpers import lines_of


def markers_of(name: str) -> list[dict]:
    return [marker.data() for line in lines_of(name) if (marker := detect(line)) is not None]


def percents(markers: list[dict], phase: str | None = None) -> list[float]:
    return [m["percent"] for m in markers if "percent" in m and (phase is None or m["phase"] == phase)]


def test_apt_install_under_a_terminal_yields_dpkg_fancy_progress_with_each_phase():
    markers = markers_of("apt_install_fancy_pty.out")
    assert percents(markers, "reading package lists") == [0, 0, 0, 93, 93, 93, 93, 98, 98]
    assert percents(markers, "reading database") == list(range(5, 101, 5))
    fancy = [(m["phase"], m["percent"], m.get("item")) for m in markers if m["tool"] == "apt" and m.get("item")]
    assert fancy == [
        ("unpacking", 8, "libtext-charwidth-perl:amd64"),
        ("selecting", 15, "cowsay"),
        ("unpacking", 23, "cowsay"),
        ("selecting", 31, "sl"),
        ("unpacking", 38, "sl"),
        ("setting up", 46, "sl"),
        ("setting up", 62, "libtext-charwidth-perl:amd64"),
        ("setting up", 77, "cowsay"),
        ("processing triggers", 92, "man-db"),
    ]


def test_apt_upgrade_with_fancy_progress_climbs_to_its_last_percent():
    markers = markers_of("apt_upgrade_fancy_pty.out")
    dpkg = [m for m in markers if m["tool"] == "apt" and m["phase"] not in ("reading package lists",
            "building dependency tree", "reading state information", "reading database")]
    assert [m["percent"] for m in dpkg] == [20, 40, 80]
    assert dpkg[1] == {"tool": "apt", "phase": "setting up", "percent": 40, "item": "zip"}


def test_apt_install_on_a_pipe_yields_downloads_and_dpkg_phases_without_fancy_percent():
    markers = markers_of("apt_install_fancy.out")
    assert [m["current"] for m in markers if m["phase"] == "downloading"] == [1, 2, 3]
    assert "downloaded" in [m["phase"] for m in markers]
    phases = [(m["phase"], m["item"]) for m in markers if m["tool"] == "dpkg"]
    assert ("unpacking", "sl") in phases and ("setting up", "cowsay") in phases
    assert not [m for m in markers if m["tool"] == "dpkg" and "percent" in m]  # dpkg said none


def test_dpkg_alone_yields_its_phases_in_order():
    markers = markers_of("dpkg_install.out") + markers_of("dpkg_remove.out")
    assert [(m["phase"], m.get("item")) for m in markers] == [
        ("selecting", "sl"),
        ("reading database", None),
        ("preparing", "sl_5.02-1+b1_amd64.deb"),
        ("unpacking", "sl"),
        ("setting up", "sl"),
        ("processing triggers", "man-db"),
        ("reading database", None),
        ("removing", "sl"),
        ("processing triggers", "man-db"),
    ]


def test_puppet_apply_yields_its_phases_and_each_resource_line():
    markers = markers_of("puppet_apply_failure.out")
    phases = [m["phase"] for m in markers]
    assert phases[0] == "catalog compiled" and phases[1] == "applying catalog" and phases[-1] == "catalog applied"
    assert [m["item"] for m in markers if "item" in m] == [
        "File[/tmp/boltdeck-demo]",
        "File[/tmp/boltdeck-demo/motd]",
        "File[/tmp/boltdeck-demo/extra]",
        "Exec[failing-step]",
        "Notify[after-failure]",
    ]
    assert not [m for m in markers if "percent" in m]  # Puppet never says how far it is


def test_puppet_agent_phases_are_named():
    lines = [
        "Info: Using environment 'production'",
        "Info: Retrieving pluginfacts",
        "Info: Retrieving plugin",
        "Info: Loading facts",
        "Info: Caching catalog for web01.example.com",
        "Info: Applying configuration version '1700000000'",
        "Notice: Applied catalog in 3.21 seconds",
    ]
    assert [m.phase for line in lines if (m := detect(line))] == [
        "retrieving pluginfacts", "retrieving plugins", "loading facts", "caching catalog",
        "applying catalog", "catalog applied",
    ]


def test_dnf_yum_and_zypper_steps_give_n_of_m_and_no_percent():
    """Lines as dnf 4, yum 3 and zypper print them (no capture: these tools are not on Debian)."""
    cases = {
        "  Installing       : sl-5.02-1.el9.x86_64                      1/2": ("dnf", "installing", 1, 2),
        "  Verifying        : sl-5.02-1.el9.x86_64                      2/2": ("dnf", "verifying", 2, 2),
        "  Updating   : bash-4.2.46-35.el7_9.x86_64                     1/2 ": ("dnf", "updating", 1, 2),
        "(1/3): sl-5.02-1.el9.x86_64.rpm              123 kB/s |  13 kB     00:00": ("dnf", "downloading", 1, 3),
        "(2/5) Installing: vim-9.0.1572-1.1.x86_64 ..............[done]": ("zypper", "installing", 2, 5),
        "Retrieving: sl-5.02-1.2.x86_64 (Main Repository) (1/2),  13.2 KiB": ("zypper", "downloading", 1, 2),
    }
    for line, (tool, phase, current, total) in cases.items():
        marker = detect(line)
        assert (marker.tool, marker.phase, marker.current, marker.total, marker.percent) == (
            tool, phase, current, total, None), line
    assert detect("Running transaction").phase == "running transaction"


def test_pip_phases_are_named():
    assert detect("Collecting requests==2.31.0").data() == {"tool": "pip", "phase": "collecting", "item": "requests==2.31.0"}
    assert detect("Successfully installed requests-2.31.0").phase == "installed"


def test_the_generic_fallback_takes_a_stated_percent_and_nothing_else():
    assert detect("  45% [=========>          ] 1,024  2.1MB/s").percent == 45
    assert detect("copying... 12.5 %").percent == 12.5
    for line in ("rate 300% over", "a45%b", "50%%", "version 1.2.50% off", "100 percent", "disk 101%"):
        assert detect(line) is None, line


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="%"), max_size=300))
def test_text_without_a_percent_sign_never_yields_a_percent(text):
    marker = detect(text)
    assert marker is None or marker.percent is None


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=string.printable, max_size=200))
def test_a_percent_is_never_invented_from_random_text(text):
    """Whatever the text, a percent given is a number the text states right before a `%`."""
    marker = detect(text)
    if marker is not None and marker.percent is not None:
        stated = {float(number) for number in re.findall(r"(\d+(?:\.\d+)?)\s*%", readable(text))}
        assert marker.percent in stated, (text, marker)
