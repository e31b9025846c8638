"""qnas._imports: optional dependencies fail with an install hint, TF must come with tf-keras."""

import os
import subprocess
import sys

import pytest

from qnas._imports import require
from qnas.errors import ToolNotFound


def test_missing_module_names_the_extra():
    with pytest.raises(ToolNotFound, match=r"pip install 'qnas\[physics\]'"):
        require("fastjet_does_not_exist_xyz", "physics")


def test_tensorflow_imported_with_keras3_is_refused():
    code = ("import tensorflow\nfrom qnas._imports import tensorflow as tf_legacy\n"
            "from qnas.errors import ToolNotFound\n"
            "try:\n    tf_legacy()\nexcept ToolNotFound as e:\n    print('REFUSED', 'TF_USE_LEGACY_KERAS=1' in str(e))\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert "REFUSED True" in out.stdout, out.stderr[-2000:]


def test_error_excerpt_keeps_head_and_tail_of_long_messages():
    from qnas.errors import error_excerpt

    short = error_excerpt(ValueError("bad"))
    assert short == "ValueError: bad"
    long = error_excerpt(RuntimeError("cmd line\n" + "x" * 5000 + "\nthe real reason"), limit=200)
    assert long.startswith("RuntimeError: cmd line") and long.endswith("the real reason")
    assert len(long) <= 205
