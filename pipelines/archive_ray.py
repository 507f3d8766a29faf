"""Archive jobs on Ray: Ray Data streams batches of work (tiles to embed, rasters to
segment) through a pool of actors (archive.TileEmbedder, archive_segment.RasterSegmenter),
each holding its own copy of the model, and a GPU where the cluster has GPUs. The driver
(this process) writes what comes back.

Ray is imported here only, so the rest of GeoVL runs without it.
"""
from __future__ import annotations

import os
import queue
import threading
from typing import Iterator

import numpy as np

from ..errors import GeoVLError, InputError, ModelError
from .feedback import Feedback

# a local instance's shared memory for the tile batches in flight (small: rows of integers
# going out, float16 embeddings coming back)
LOCAL_OBJECT_STORE_BYTES = 512 << 20
# at most this many input blocks (each a multiple of the batch size), so a huge archive
# does not drown Ray in block metadata
MAX_BLOCKS = 2000
# what a cluster need not receive of the plugin folder
_NOT_SHIPPED = [".git", ".venv", ".runtime", "test-artifacts", "bench/results", "docs"]

_connected_to: str | None = None


def map_on_ray(tasks: dict[str, np.ndarray], worker: type, worker_arguments: dict, batch_size: int, cluster: str,
               workers: int, model_name: str, feedback: Feedback) -> Iterator[dict[str, np.ndarray]]:
    """The batches of `tasks` (columns of equal length) through a pool of Ray actors of
    class `worker` (made with `worker_arguments`; each holds its own copy of the model),
    in the order they finish."""
    ray = _import_ray()
    connect(cluster, feedback)
    resources = ray.cluster_resources()
    cpus, gpus = max(1.0, float(resources.get("CPU", 1))), int(resources.get("GPU", 0))
    workers = workers or gpus or int(cpus)
    if gpus and workers > gpus:
        feedback.warning(f"{workers} workers asked for and the Ray cluster has {gpus} GPU(s): running {gpus} "
                         "workers, one per GPU.")
        workers = gpus
    feedback.info(f"Ray: {workers} worker(s) holding {model_name}, on {cpus:g} CPU(s)"
                  f"{f' and {gpus} GPU(s)' if gpus else ''}.")
    if not len(next(iter(tasks.values()))):
        return
    ray.data.DataContext.get_current().enable_progress_bars = False
    dataset = ray.data.from_arrow(_blocks(tasks, batch_size)).map_batches(
        worker, fn_constructor_kwargs=worker_arguments, batch_size=batch_size, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=cpus / workers, num_gpus=1 if gpus else 0)
    batches = dataset.iter_batches(batch_size=None, batch_format="numpy")
    try:
        yield from batches
    except Exception as exc:
        raise _geovl_error(exc) or ModelError(f"The Ray job failed: {exc}") from exc


def connect(cluster: str, feedback: Feedback) -> None:
    """Join the Ray cluster at `cluster` (else RAY_ADDRESS), or start a local instance;
    once per process, unless another address is asked for."""
    global _connected_to
    ray = _import_ray()
    address = cluster or os.environ.get("RAY_ADDRESS", "")
    if ray.is_initialized() and _connected_to == address:
        return
    if ray.is_initialized():
        ray.shutdown()
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        if address:
            feedback.info(f"Connecting to the Ray cluster at {address}.")
            # the workers get this GeoVL with the job; its packages (torch, ...) must be theirs
            _init_in_lasting_thread(address=address, log_to_driver=False, configure_logging=False,
                                    runtime_env={"py_modules": [package], "excludes": _NOT_SHIPPED})
        else:
            feedback.info("Starting a local Ray instance (set a Ray address, or RAY_ADDRESS, to use a cluster).")
            _init_in_lasting_thread(address="local", include_dashboard=False, log_to_driver=False,
                                    configure_logging=False, object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                                    runtime_env={"env_vars": {"PYTHONPATH": os.path.dirname(package)}})
    except (ConnectionError, TimeoutError, ValueError, RuntimeError) as exc:
        raise InputError(f"Cannot reach the Ray cluster at {address or 'this machine'}: {exc}. Check the address "
                         "(ray://host:10001, or auto for the cluster this machine belongs to) and that the cluster "
                         "runs (`ray status` on its head node).") from exc
    _connected_to = address


def _init_in_lasting_thread(**arguments) -> None:
    """ray.init in a thread that lives as long as the process. The processes of a local
    instance are started with Linux's parent-death signal, which fires when the *thread*
    that started them ends: started from a job's thread (the runtime worker runs each job
    in one), the instance would die with the job."""
    ray, started = _import_ray(), queue.Queue()

    def keep():
        try:
            ray.init(**arguments)
        except BaseException as exc:   # handed to the caller
            started.put(exc)
            return
        started.put(None)
        threading.Event().wait()

    threading.Thread(target=keep, daemon=True, name="geovl-ray").start()
    failure = started.get()
    if failure is not None:
        raise failure


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401  (the Data library is a part of ray[data])
    except ImportError as exc:
        raise ModelError(f"Ray is not installed in the GeoVL runtime ({exc}). Open Plugins › GeoVL › Runtime… and "
                         "press Repair, or install ray[data] into it; or run the archive job in one process.") from exc
    return ray


def _blocks(tasks: dict[str, np.ndarray], batch_size: int) -> list:
    """The tasks as Arrow tables of whole batches, so every worker gets blocks to do."""
    import pyarrow
    count = len(next(iter(tasks.values())))
    rows = batch_size * max(1, -(-count // (batch_size * MAX_BLOCKS)))
    return [pyarrow.table({k: v[i:i + rows] for k, v in tasks.items()}) for i in range(0, count, rows)]


def _geovl_error(exc: BaseException) -> GeoVLError | None:
    """The GeoVL error (a sentence for the user) a worker raised, wherever Ray wrapped it."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, GeoVLError):
            return exc
        seen.add(id(exc))
        exc = getattr(exc, "cause", None) or exc.__cause__
    return None
