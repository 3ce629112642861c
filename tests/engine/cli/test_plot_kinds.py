"""``hpo plot --kind ...``: each kind draws a real, non-blank PNG; ``--html`` a self-contained page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from typer.testing import CliRunner

from hpo_engine.cli import app
from hpo_engine.cli.plots import KINDS, view_of
from hpo_engine.cli.plots.data import axis_for
from hpo_engine.runner.results import load_results

from tests.engine.analysis_data import write_store

runner = CliRunner()


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> Path:
    """One experiment with two references (30 and 20 trials, every 5th failed)."""
    root = tmp_path_factory.mktemp("plots")
    write_store(root / "exp" / "a", 30, reference="a")
    write_store(root / "exp" / "b", 20, reference="b", seed=7)
    return root


def assert_real_png(path: Path, *, min_size: tuple[int, int] = (300, 250)) -> np.ndarray:
    """A readable PNG of at least ``min_size`` (width, height) pixels whose pixels vary (not blank)."""
    pixels = imread(path)
    height, width = pixels.shape[:2]
    assert width >= min_size[0] and height >= min_size[1], (width, height)
    gray = pixels[..., :3].mean(axis=2)
    assert gray.std() > 0.05, f"{path} looks blank (std {gray.std():.4f})"
    assert (gray < 0.5).mean() > 0.005, f"{path} has almost nothing dark drawn on it"
    return pixels


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_is_a_non_blank_png(stores: Path, tmp_path: Path, kind: str) -> None:
    output = tmp_path / f"{kind}.png"
    result = runner.invoke(app, ["plot", str(stores / "exp" / "a"), "--kind", kind, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert_real_png(output)


def test_default_sheet_has_several_panels(stores: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["plot", str(stores / "exp" / "a")])
    assert result.exit_code == 0, result.output
    sheet = assert_real_png(stores / "exp" / "a" / "plot.png")
    single = assert_real_png(_plot(stores, tmp_path, "history"))
    assert sheet.shape[0] > 2 * single.shape[0] and sheet.shape[1] > 2 * single.shape[1]


def _plot(stores: Path, tmp_path: Path, kind: str) -> Path:
    output = tmp_path / f"single-{kind}.png"
    assert runner.invoke(app, ["plot", str(stores / "exp" / "a"), "-k", kind, "-o", str(output)]).exit_code == 0
    return output


def test_references_compared_on_one_sheet(stores: Path, tmp_path: Path) -> None:
    one, both = tmp_path / "one.png", tmp_path / "both.png"
    assert runner.invoke(app, ["plot", str(stores / "exp" / "a"), "-k", "slice", "-o", str(one)]).exit_code == 0
    result = runner.invoke(app, ["plot", str(stores / "exp"), "-k", "slice", "-o", str(both)])
    assert result.exit_code == 0, result.output

    def orange(path: Path) -> int:
        """Pixels of the second reference's color (tab:orange, also blended by the points' alpha)."""
        rgb = imread(path)[..., :3]
        return int(((rgb[..., 0] > 0.9) & (rgb[..., 1] > 0.4) & (rgb[..., 1] < 0.75) & (rgb[..., 2] < 0.45)).sum())

    assert orange(one) < 50 and orange(both) > 1000


def test_axes_log_for_power_ranges_and_categories_labelled(stores: Path) -> None:
    views = [view_of(load_results(stores / "exp" / "a"))]
    assert axis_for("lr", views).scale == "log" and axis_for("units", views).scale == "log"
    assert axis_for("dropout", views).scale == "linear"
    act = axis_for("act", views)
    assert act.scale == "category" and act.categories == ("relu", "tanh", "sigmoid")


def test_failed_trials_are_kept_apart(stores: Path) -> None:
    view = view_of(load_results(stores / "exp" / "a"))
    assert len(view.failed) == 6 and len(view.complete) == 24
    assert not set(t.number for t in view.failed) & set(t.number for t in view.complete)


def test_html_is_self_contained_and_interactive(stores: Path, tmp_path: Path) -> None:
    output = tmp_path / "page.html"
    result = runner.invoke(app, ["plot", str(stores / "exp"), "--html", "-o", str(output)])
    assert result.exit_code == 0, result.output
    page = output.read_text()
    assert page.count("Plotly.newPlot(") >= 6  # history + 5 kinds per reference at least
    scripts = re.findall(r"<script[^>]*\bsrc=", page)
    assert scripts == [], "no script is loaded from anywhere"
    assert len(page) > 3_000_000  # plotly.js itself is inline
    for title in ("history", "importance: a", "parallel: b", "curves: a", "slice: b"):
        assert f"<h2>{title}</h2>" in page
    assert '"type":"log"' in page  # the power range's axis


def test_plot_of_a_corrupt_store(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "trials.sqlite").write_bytes(b"not a database at all" * 100)
    result = runner.invoke(app, ["plot", str(folder), "--kind", "importance"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "not an hpo result store" in result.stderr or "cannot" in result.stderr


def test_ped_anova_skips_scikit_learn_and_fanova_still_works_after(stores: Path) -> None:
    """A fresh process: PED-ANOVA imports no scikit-learn; fANOVA in the same process afterwards works."""
    script = f"""
import sys
from pathlib import Path
from hpo_engine.cli.plots import view_of
from hpo_engine.cli.plots.importance import importances
from hpo_engine.runner.results import load_results
view = view_of(load_results(Path({str(stores / "exp" / "a")!r})))
ped = importances(view, "ped-anova")
assert ped and abs(sum(ped.values()) - 1) < 1e-6, ped
assert "sklearn" not in sys.modules and "optuna.importance" not in sys.modules
import optuna.importance
assert optuna.importance.FanovaImportanceEvaluator(seed=0) is not None
fanova = importances(view, "fanova")
assert fanova and next(iter(fanova)) == "lr", fanova
assert "sklearn" in sys.modules
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
