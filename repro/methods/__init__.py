"""One module per paper: each method owns its objective and update rule (a D step and a G step)."""

from .base import GANMethod
from .gan import LOSSES, StandardGAN

__all__ = ["GANMethod", "LOSSES", "StandardGAN"]
