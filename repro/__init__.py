"""gan-repro: a notebook-first PyTorch reproduction of four GAN papers.

Improved-GAN (Salimans et al. 2016), AM-GAN (Zhou et al. 2018), MS-GAN (Tran et al. 2019) and MMGAN
(Park et al. 2018). The package holds data, networks, losses, methods, the training loop and metrics;
the notebooks in ``notebooks/`` hold the narrative and the parameters.
"""

__version__ = "0.1.0"
