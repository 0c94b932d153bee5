"""Which precision and backend suit this machine, and what ``NIANBAO_PRECISION``/``NIANBAO_BACKEND`` force.

bf16 only pays on CPUs that compute it natively (AVX512-BF16 or AMX); elsewhere it is emulated
and slower than fp32. int8 takes signed weights where AVX512-VNNI multiplies them natively. The
CPU is asked through torch, which reads CPUID itself on every
platform; /proc/cpuinfo (Linux) is the fallback for a torch without those probes, and with
neither nianbao assumes no native bf16, which is always correct, only maybe slower.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Literal

from ...core import settings
from .backends.base import Backend

Precision = Literal["fp32", "bf16", "fp16", "int8"]
PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16", "int8")
NATIVE_BF16 = frozenset({"avx512_bf16", "amx_bf16"})
VNNI = "avx512_vnni"
CPUINFO = Path("/proc/cpuinfo")

# Linux's /proc/cpuinfo flag for each of torch's probes (torch.cpu._is_*_supported).
_TORCH_PROBES = {"avx512_bf16": "_is_avx512_bf16_supported", "amx_bf16": "_is_amx_tile_supported",
                 VNNI: "_is_vnni_supported"}


def cpu_features() -> set[str]:
    """The CPU features the choices depend on (/proc/cpuinfo's names), from torch or else
    :data:`CPUINFO`; empty if neither says."""
    try:
        import torch.cpu

        return {flag for flag, probe in _TORCH_PROBES.items() if getattr(torch.cpu, probe)()}
    except (ImportError, AttributeError, RuntimeError):
        pass
    try:
        text = CPUINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split()) & set(_TORCH_PROBES)
    return set()


def forced_precision() -> Precision | None:
    forced = os.environ.get(settings.PRECISION_ENV, "").strip().lower()
    if not forced:
        return None
    if forced not in PRECISIONS:
        raise ValueError(f"{settings.PRECISION_ENV}={forced!r}: expected one of {', '.join(PRECISIONS)}")
    return forced  # type: ignore[return-value]


def choose_precision(device: str = "cpu") -> Precision:
    """fp16 on CUDA; bf16 on CPUs with native bf16 (AMX or AVX512-BF16), 1.7-3x faster there; else fp32.

    ``NIANBAO_PRECISION`` overrides the choice (``int8`` is never chosen unasked: its vectors
    differ from fp32's and carry their own model id).
    """
    forced = forced_precision()
    if forced is not None:
        return forced
    if device.startswith("cuda"):
        return "fp16"
    if device.split(":")[0] == "cpu" and cpu_features() & NATIVE_BF16:
        return "bf16"
    return "fp32"


def int8_variant() -> Literal["int8", "int8s8"]:
    """The ONNX int8 graph for this CPU: signed weights (u8s8) where AVX512-VNNI multiplies them
    natively, 1.45x the unsigned graph there (bench/embed_speed.py); else unsigned (u8u8), which plain AVX2 multiplies
    without the int16 saturation of u8s8. Both hold the same 256 weight steps, so their vectors
    are the same (one model id)."""
    return "int8s8" if VNNI in cpu_features() else "int8"


def choose_backend(precision: Precision, device: str = "cpu", default_model: bool = True) -> Backend:
    """``onnx`` (ONNX Runtime) for the default model in fp32 or int8 on the CPU when onnxruntime
    is installed: fp32 there gives torch's vectors 1.3-1.4x faster on 2 AVX2 cores. Otherwise,
    or with ``NIANBAO_BACKEND=torch``, ``torch`` (sentence-transformers)."""
    name = settings.BACKEND_ENV
    forced = os.environ.get(name, "").strip().lower()
    if forced not in ("", "torch", "onnx"):
        raise ValueError(f"{name}={forced!r}: expected torch or onnx")
    onnx_possible = default_model and device.split(":")[0] == "cpu" and precision in ("fp32", "int8")
    if precision == "int8" and not (onnx_possible and forced != "torch"):
        raise ValueError(f"int8 runs only the default model, on the CPU, with ONNX Runtime (not with {name}=torch)")
    if forced == "onnx" and not onnx_possible:
        raise ValueError(f"{name}=onnx runs only the default model in fp32 or int8 on the CPU")
    if forced == "torch" or not onnx_possible:
        return "torch"
    if forced == "onnx" or precision == "int8" or importlib.util.find_spec("onnxruntime") is not None:
        return "onnx"
    return "torch"
