"""The Markdown summary for GitHub's step summary: a section per API, failures folded away."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tests.kit.broken_servers import BROKEN, TOKEN, kenbun_app
from tests.kit.conftest import run_kit
from usagemock.cli import main
from usagemock.kit.summary import MarkdownSummary


def summarise(app: object, path: Path) -> str:
    """Run the kit on ``app`` (Kenbun) with a summary handler; the file's text."""
    summary = MarkdownSummary(path)
    for event in run_kit("kenbun", app, samples=6, max_examples=5):
        summary.handle(event)
    return path.read_text()


def test_a_failing_run_shows_the_broken_check_and_its_response(tmp_path: Path) -> None:
    """FAILED, the check's row marked, the failure in a collapsed block; no token anywhere."""
    broken = next(b for b in BROKEN if b.name == "overage_true_at_the_limit")
    text = summarise(broken.app(), tmp_path / "summary.md")
    assert text.startswith("### usagemock test: kenbun against `the in-process mock`\n")
    assert ":x: FAILED: 1 check(s) broken" in text
    assert "| :x: | `kenbun_overage_flag` | GET /usage | documented |" in text
    assert "<details><summary><code>kenbun_overage_flag</code> on GET /usage" in text
    assert TOKEN not in text


def test_runs_append_so_a_step_summary_keeps_earlier_steps(tmp_path: Path) -> None:
    """A passing run appends its own section after what the file held."""
    path = tmp_path / "summary.md"
    path.write_text("## Earlier step\n")
    text = summarise(kenbun_app(), path)
    assert text.startswith("## Earlier step\n### usagemock test: kenbun")
    assert ":white_check_mark: PASSED" in text and "<details>" not in text.split("#### Notes")[0]


def test_an_unwritable_summary_stops_before_the_run() -> None:
    """``--summary`` where nothing can be written: one line, exit 2, no run."""
    result = CliRunner().invoke(
        main,
        ["test", "--api", "kenbun", "--summary", "/proc/nope.md"],
        env={"USAGEMOCK_TOKEN": "t"},
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("usagemock: error: --summary /proc/nope.md: cannot write")
    assert "usagemock test:" not in result.stdout
