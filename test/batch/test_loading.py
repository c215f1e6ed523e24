import pytest

from slicing.batch.errors import BatchInputError
from slicing.batch.loading import load_sfs


def test_load_a_list_a_single_sf_or_every_sf_of_a_module(sf_module):
    assert [sf.name for sf in load_sfs(f"{sf_module}:SFS")] == [
        "short_comment",
        "high_score",
    ]
    assert [sf.name for sf in load_sfs(f"{sf_module}:fragile")] == ["fragile"]
    assert [sf.name for sf in load_sfs(str(sf_module))] == [
        "short_comment",
        "high_score",
        "fragile",
        "slow_short",
    ]
    assert [sf.name for sf in load_sfs("slicing.demo:SFS")][0] == "short_comment"


def test_loaded_sfs_pickle_by_value(sf_module):
    import cloudpickle

    sfs = load_sfs(f"{sf_module}:SFS")
    payload = cloudpickle.dumps(sfs)
    assert b"job_sfs" not in payload or b"short_comment" in payload
    restored = cloudpickle.loads(payload)
    assert restored[0].name == "short_comment"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("no_such_module_xyz", "not found"),
        ("{module}:MISSING", "has no attribute 'MISSING'"),
        ("{module}:NOT_AN_SF", "int, not a SlicingFunction"),
        ("{missing_file}", "does not exist"),
        (":SFS", "expected MODULE or MODULE:NAME"),
    ],
)
def test_bad_specs(spec, message, sf_module, tmp_path):
    spec = spec.format(module=sf_module, missing_file=tmp_path / "nope.py")
    with pytest.raises(BatchInputError, match=message):
        load_sfs(spec)


def test_module_that_fails_to_import_and_duplicate_names(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_dependency_xyz\n")
    with pytest.raises(BatchInputError, match="failed to import: ModuleNotFoundError"):
        load_sfs(str(broken))
    twice = tmp_path / "twice.py"
    twice.write_text(
        "from slicing import slicing_function\n"
        "@slicing_function(name='same')\ndef a(x):\n    return True\n"
        "@slicing_function(name='same')\ndef b(x):\n    return True\n"
        "SFS = [a, b]\n"
    )
    with pytest.raises(BatchInputError, match=r"unique; repeated: \['same'\]"):
        load_sfs(f"{twice}:SFS")
