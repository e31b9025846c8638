"""One task per design in a pool of processes: export and synthesis of a Pareto set in parallel.

Tasks run in fresh (``spawn``) processes: TensorFlow, hls4ml and the synthesis tools keep
threads and global state that a forked child must not inherit. ``workers=1`` runs in this
process, so a single design behaves exactly as before.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterator, Sequence


def run_tasks(fn: Callable[..., Any], items: Sequence[Any], workers: int,
              kwargs: dict[str, Any] | None = None) -> Iterator[tuple[Any, Any, BaseException | None]]:
    """Yield ``(item, result, error)`` for ``fn(item, **kwargs)`` as tasks finish."""
    kwargs = kwargs or {}
    if workers <= 1 or len(items) <= 1:
        for item in items:
            try:
                yield item, fn(item, **kwargs), None
            except Exception as exc:  # reported per task; the caller decides the exit code
                yield item, None, exc
        return
    import multiprocessing

    with ProcessPoolExecutor(max_workers=min(workers, len(items)),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(fn, item, **kwargs): item for item in items}
        try:
            for future in as_completed(futures):
                error = future.exception()
                yield futures[future], (None if error else future.result()), error
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
