"""What `auto` precision and device resolve to, on CPUs with and without native bf16."""
from __future__ import annotations

import re

import pytest
import torch

from geovl.errors import InputError
from geovl.models import device

# Excerpts of /proc/cpuinfo from the two CPU kinds the project runs on.
EPYC_AVX2 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B12 64-Core Processor
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sse sse2 ht syscall nx avx f16c rdrand avx2 bmi2 sha_ni
bugs\t\t: sysret_ss_attrs null_seg spectre_v1
"""
XEON_AMX = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu vme sse sse2 avx avx2 avx512f avx512bw avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8
"""
ONLY_AVX512_BF16 = "flags\t\t: sse2 avx2 avx512f avx512bw avx512_bf16\n"


@pytest.mark.parametrize("cpuinfo, flags", [(EPYC_AVX2, set()), (XEON_AMX, {"avx512_bf16", "amx_bf16"}),
                                            (ONLY_AVX512_BF16, {"avx512_bf16"}), ("", set()),
                                            ("model name\t: bf16 amx_bf16 lookalike\n", set())])
def test_fast_bf16_flags_read_the_flags_line_only(cpuinfo, flags):
    assert device.fast_bf16_flags(cpuinfo) == flags


@pytest.mark.parametrize("fast_bf16, expected", [(True, torch.bfloat16), (False, torch.float32)])
def test_auto_on_the_cpu_is_bf16_only_with_native_bf16(monkeypatch, fast_bf16, expected):
    monkeypatch.setattr(device, "cpu_has_fast_bf16", lambda: fast_bf16)
    cpu = torch.device("cpu")
    assert device.resolve_dtype("auto", cpu) == expected
    assert device.resolve_dtype("", cpu) == expected
    # Explicit choices hold whatever the CPU.
    assert device.resolve_dtype("fp32", cpu) == torch.float32
    assert device.resolve_dtype("BF16", cpu) == torch.bfloat16
    with pytest.raises(InputError, match="fp16 is not supported on the CPU"):
        device.resolve_dtype("fp16", cpu)


def test_auto_on_this_machine_follows_its_cpuinfo():
    """The answer on this machine, against a grep of /proc/cpuinfo written here."""
    with open("/proc/cpuinfo") as f:
        native = bool(re.search(r"^flags\s*:.*\b(avx512_bf16|amx_bf16)\b", f.read(), re.MULTILINE))
    expected = torch.bfloat16 if native else torch.float32
    assert device.resolve_dtype("auto", torch.device("cpu")) == expected
    assert device.dtype_name(expected) == ("bf16" if native else "fp32")


def test_auto_device_without_a_gpu_is_the_cpu():
    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this machine has a GPU")
    assert device.resolve_device("auto").type == "cpu"
    assert device.resolve_device("CPU").type == "cpu"
    with pytest.raises(InputError, match="sees no CUDA GPU"):
        device.resolve_device("cuda")
    with pytest.raises(InputError, match="no Apple MPS support"):
        device.resolve_device("mps")


def test_a_cuda_gpu_with_bf16_says_nothing_about_the_cpu(monkeypatch):
    """bf16 support of a GPU is asked of CUDA devices only: on the CPU `auto` still follows
    the CPU's own flags."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(device, "cpu_has_fast_bf16", lambda: False)
    assert device.resolve_dtype("auto", torch.device("cpu")) == torch.float32
    assert device.resolve_dtype("auto", torch.device("cuda")) == torch.bfloat16


def test_a_cpu_whose_flags_cannot_be_read_has_no_fast_bf16(monkeypatch):
    def unreadable(*args, **kwargs):
        raise OSError("no /proc here")

    device.cpu_has_fast_bf16.cache_clear()
    monkeypatch.setattr(device, "open", unreadable, raising=False)
    try:
        assert device.cpu_has_fast_bf16() is False
    finally:
        device.cpu_has_fast_bf16.cache_clear()
