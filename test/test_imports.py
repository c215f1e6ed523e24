"""The SF and applier parts of the package stay light: no torch, no spaCy, no Dask."""

import subprocess
import sys


def run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_sfs_and_appliers_does_not_import_torch_or_dask():
    out = run(
        "import sys; from slicing import PandasSFApplier, SFApplier, slicing_function, "
        "slice_dataframe, sf_from_lf; "
        "print(sorted(m for m in ('torch', 'dask', 'spacy') if m in sys.modules))"
    )
    assert out == "[]"


def test_dask_appliers_do_not_import_torch():
    out = run(
        "import sys; from slicing import DaskSFApplier, PandasParallelSFApplier; "
        "print('torch' in sys.modules, 'dask' in sys.modules)"
    )
    assert out == "False True"


def test_unknown_name_is_an_attribute_error():
    out = run(
        "import slicing\ntry:\n    slicing.no_such_name\nexcept AttributeError as e:\n    print(e)"
    )
    assert "no attribute 'no_such_name'" in out
