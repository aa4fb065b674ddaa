"""Array conversion shared by the metric functions: tensors on any device or NumPy arrays in, NumPy out."""

from __future__ import annotations

import numpy as np
import torch


def to_numpy(values: torch.Tensor | np.ndarray, dtype: type | None = None) -> np.ndarray:
    """A NumPy view or copy of ``values`` (CPU, detached), optionally cast to ``dtype``.

    Accepts any NumPy layout (negative strides included) and tensors of dtypes NumPy lacks (bfloat16 is
    widened to float32 first).
    """
    if isinstance(values, torch.Tensor):
        tensor = values.detach().cpu()
        if tensor.dtype in (torch.bfloat16, torch.float16):
            tensor = tensor.float()
        array = tensor.numpy()
    else:
        array = np.asarray(values)
    return array if dtype is None else array.astype(dtype, copy=False)
