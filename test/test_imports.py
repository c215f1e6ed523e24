"""The SF and applier parts of the package stay light (no torch, no spaCy, no Dask),
and the module paths snorkel.slicing users import from exist."""

import subprocess
import sys

import pytest


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


def test_snorkel_module_paths_import():
    """The modules ``snorkel.slicing`` code imports from, with the same names."""
    out = run(
        "from slicing.apply.core import PandasSFApplier, SFApplier\n"
        "from slicing.apply.dask import DaskSFApplier, PandasParallelSFApplier\n"
        "from slicing.monitor import slice_dataframe\n"
        "from slicing.sf import SlicingFunction, slicing_function\n"
        "from slicing.sf.core import SlicingFunction as Core\n"
        "from slicing import apply, sf\n"
        "import sys\n"
        "print(slice_dataframe.__module__, SlicingFunction is Core, "
        "'slicing.apply.dask' in sys.modules)"
    )
    assert out == "slicing.apply.dataframe True True"


def test_snorkel_nlp_module_path_imports():
    pytest.importorskip("spacy")
    out = run(
        "from slicing.sf.nlp import NLPSlicingFunction, nlp_slicing_function; "
        "from slicing import NLPSlicingFunction as Top; "
        "print(Top is NLPSlicingFunction)"
    )
    assert out == "True"


def test_all_is_grouped_by_wing_and_resolves():
    out = run(
        "import slicing; missing = [n for n in slicing.__all__ "
        "if not hasattr(slicing, n)]; "
        "print(missing, len(slicing.__all__) == len(set(slicing.__all__)), "
        "'check_slice_names' in slicing.__all__)"
    )
    assert out == "[] True True"
