"""Test session set-up: the plugin is importable as `geovl`, offline, headless.

The repository root is the plugin package. It is exposed under its installed name
through a symlink in a folder outside the checkout; the root itself never goes on
sys.path (its `processing/` would shadow QGIS's Processing framework).
"""
import hashlib
import os
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = os.path.dirname(os.path.abspath(__file__))
# The algorithms run their jobs in the runtime `make setup` installs in the checkout.
os.environ.setdefault("GEOVL_RUNTIME", os.path.join(ROOT, ".runtime"))

# No timing in tests: Hypothesis's deadline and its "input generation is slow" check fail
# a property test when a loaded CI machine stalls for a second, whatever the code does.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("geovl", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("geovl")

# `python -m pytest` run from the checkout puts the current folder on sys.path; drop it.
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.getcwd()) != ROOT]
_link_dir = os.path.join(tempfile.gettempdir(), f"geovl-test-path-{os.getuid()}-{hashlib.sha1(ROOT.encode()).hexdigest()[:8]}")
os.makedirs(_link_dir, exist_ok=True)
_link = os.path.join(_link_dir, "geovl")
if os.path.realpath(_link) != ROOT:
    if os.path.islink(_link):
        os.remove(_link)
    os.symlink(ROOT, _link)
if _link_dir not in sys.path:
    sys.path.insert(0, _link_dir)


def pytest_report_header(config):
    """Say which precision `auto` runs the models in on this machine (bf16 where the CPU
    has native bf16, else fp32): a result that differs between machines starts here."""
    from geovl.models.device import cpu_has_fast_bf16, dtype_name, resolve_device, resolve_dtype

    device = resolve_device("auto")
    flags = "native bf16 (AVX512-BF16/AMX)" if cpu_has_fast_bf16() else "no native bf16 (AVX2 or older)"
    return f"geovl: auto precision resolves to {dtype_name(resolve_dtype('auto', device))} on {device.type}; CPU: {flags}"
