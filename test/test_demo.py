"""``python -m slicing.demo`` runs end to end on the base install and prints its evidence."""

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import slicing.demo
from slicing.demo import SFS
from slicing.demo.run import main, parse_args

#: What the demo's modules may import: the standard library and the base install.
BASE_IMPORTS = {
    *sys.stdlib_module_names,
    "numpy",
    "pandas",
    "snorkel",
    "slicing",
    "torch",
    "tqdm",
}
QUICK = ["--epochs", "1", "--train-rows", "300", "--no-progress"]


def test_the_demo_runs_as_a_module_without_the_tutorial_extras(tmp_path):
    script = textwrap.dedent(
        f"""
        import runpy, sys
        sys.argv = ["slicing.demo", *{QUICK!r}, "--output-dir", {str(tmp_path)!r}]
        runpy.run_module("slicing.demo", run_name="__main__")
        # snorkel itself imports scikit-learn: only the tutorial extras are checked
        extras = [m for m in ("textblob", "matplotlib.pyplot") if m in sys.modules]
        assert not extras, extras
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "300 training comments, 250 test comments" in out
    for sf in SFS:
        assert sf.name in out
    # The baseline's per-slice scores with intervals, then the side-by-side table.
    assert re.search(
        r"short_comment\s+85\s+0\.34\s+\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", out
    )
    assert re.search(r"\bn\s+plain\s+slice_aware\s+slice_aware - plain\s+change", out)
    for figure in ("baseline_scores.png", "comparison.png"):
        path = tmp_path / figure
        assert str(path) in out
        assert path.read_bytes().startswith(b"\x89PNG")


def test_the_demo_imports_only_the_base_install():
    # scikit-learn comes with snorkel, but the demo must not need it: the README's
    # first command promises a demo on the base install.
    for path in Path(slicing.demo.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
        }
        assert imported <= BASE_IMPORTS, (path.name, imported - BASE_IMPORTS)


def _without_timings(text: str) -> str:
    return re.sub(r"\d+ s\b", "<t> s", text)


def test_the_demo_is_deterministic(tmp_path, capsys):
    main([*QUICK, "--output-dir", str(tmp_path / "first")])
    first = capsys.readouterr().out
    main([*QUICK, "--output-dir", str(tmp_path / "second")])
    second = capsys.readouterr().out
    assert _without_timings(first).replace("first", "second") == _without_timings(
        second
    )


def test_the_demo_defaults_and_help(capsys):
    options = parse_args([])
    assert (options.epochs, options.seed, options.progress) == (10, 0, True)
    assert options.output_dir is None and options.train_rows is None
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    assert "--output-dir" in capsys.readouterr().out
