"""Device and numeric precision selection."""
from __future__ import annotations

import functools

import torch

from ..errors import InputError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(name: str = "auto") -> torch.device:
    """auto: CUDA, then Apple MPS, then CPU."""
    name = (name or "auto").lower()
    if name not in DEVICES:
        raise InputError(f"Unknown device '{name}'; use one of {', '.join(DEVICES)}.")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("Device 'cuda' was asked for but PyTorch sees no CUDA GPU; use 'auto' or 'cpu'.")
    if name == "mps" and not torch.backends.mps.is_available():
        raise InputError("Device 'mps' was asked for but this PyTorch has no Apple MPS support; use 'auto' or 'cpu'.")
    return torch.device(name)


FAST_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def fast_bf16_flags(cpuinfo: str) -> set[str]:
    """The native bf16 instruction sets named in the flags of /proc/cpuinfo's text."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split()) & FAST_BF16_FLAGS
    return set()


@functools.lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """True on CPUs with native bf16 matrix instructions (AVX512-BF16 or AMX), where
    oneDNN runs bf16 several times faster than fp32; elsewhere bf16 is emulated."""
    try:
        with open("/proc/cpuinfo") as f:
            return bool(fast_bf16_flags(f.read()))
    except OSError:
        return False


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """auto: bf16 where the device runs it natively (CUDA with bf16, CPUs with
    AVX512-BF16/AMX), fp32 elsewhere."""
    precision = (precision or "auto").lower()
    if precision not in PRECISIONS:
        raise InputError(f"Unknown precision '{precision}'; use one of {', '.join(PRECISIONS)}.")
    if precision == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        if device.type == "cpu" and cpu_has_fast_bf16():
            return torch.bfloat16
        return torch.float32
    if precision == "fp16" and device.type == "cpu":
        raise InputError("fp16 is not supported on the CPU; use bf16 or fp32 (or auto).")
    return _DTYPES[precision]


def dtype_name(dtype: torch.dtype) -> str:
    return {v: k for k, v in _DTYPES.items()}[dtype]
