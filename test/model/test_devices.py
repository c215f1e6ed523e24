"""Device resolution (slicing/model/devices.py)."""

import pytest
import torch

from slicing.model.devices import resolve_device
from test.model.test_classifier import make_model


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize("device", [0, 1, "cuda", "cuda:0", torch.device("cuda", 0)])
def test_a_cuda_device_without_cuda_warns_and_uses_the_cpu(no_cuda, device):
    with pytest.warns(UserWarning, match="no CUDA device here; using the CPU"):
        assert resolve_device(device) == torch.device("cpu")


def test_snorkels_device_0_on_a_cpu_machine_builds_trains_and_predicts(no_cuda):
    # snorkel's MultitaskClassifier defaults to device=0 and falls back to the CPU.
    with pytest.warns(UserWarning, match="device 0 asks for CUDA"):
        model = make_model(device=0)
    assert model.target_device == torch.device("cpu")
    assert {p.device for p in model.parameters()} == {torch.device("cpu")}
    assert model.predict(torch.zeros(3, 2)).shape == (3,)


@pytest.mark.parametrize("device", ["gpu", True, 1.5])
def test_a_bad_device_name_is_refused(device):
    with pytest.raises(ValueError, match="device must be"):
        resolve_device(device)
