"""Layers of Improved-GAN (Salimans et al. 2016) as the official code implements them (improved_gan.md §1).

* :class:`MinibatchDiscrimination` (§3.2; the code's MinibatchLayer): weight-normalised projection, L1 kernel
  distances with self-pairs excluded, learned bias, data-dependent init.
* :class:`VirtualBatchNorm` (§3.5; the per-example version of the ImageNet code): statistics of a fixed
  reference batch blended with each example's own.
* :class:`GaussianNoise`: additive noise in D during training only (the MNIST and MBD scripts).
"""

from __future__ import annotations

import torch
from torch import nn

# added to each example's distance to itself, so that exp(-distance) drops the self-pair (the code's 1e6)
_SELF_DISTANCE = 1e6


class GaussianNoise(nn.Module):
    """x + N(0, σ²) in training mode, identity in eval mode (improved_gan.md §1.9)."""

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.sigma * torch.randn_like(x) if self.training and self.sigma > 0 else x

    def extra_repr(self) -> str:
        return f"sigma={self.sigma}"


class MinibatchDiscrimination(nn.Module):
    """Features (n, A) -> [features, o] (n, A + B), o_b(x_i) = Σ_{j≠i} exp(−‖M_{i,b} − M_{j,b}‖₁) + β_b.

    Salimans et al. §3.2 with the official parameterisation: M_i = f(x_i) T, T_{:,b,c} = θ_{:,b,c} e^{s_{b,c}} /
    ‖θ_{:,b,c}‖, θ ~ N(0, 0.05²), s = 0, β = −1 (A = 192, B = 100, C = 5 in the CIFAR/SVHN code). Call
    :meth:`initialise` once on a real batch for the code's data-dependent init.
    """

    def __init__(self, in_features: int, num_kernels: int = 100, kernel_dim: int = 5) -> None:
        super().__init__()
        self.in_features, self.num_kernels, self.kernel_dim = in_features, num_kernels, kernel_dim
        self.theta = nn.Parameter(torch.randn(in_features, num_kernels, kernel_dim) * 0.05)
        self.log_scale = nn.Parameter(torch.zeros(num_kernels, kernel_dim))
        self.bias = nn.Parameter(torch.full((num_kernels,), -1.0))
        self.init_pending = False  # set by data_dependent_init: the next forward pass initialises

    def projection(self) -> torch.Tensor:
        """T (A, B, C): θ normalised over A, times e^s."""
        return self.theta * (self.log_scale.exp() / self.theta.norm(dim=0))

    def distances(self, features: torch.Tensor) -> torch.Tensor:
        """Kernel-wise L1 distances (n, n, B) between the rows of M, with the self-distance set huge."""
        m = torch.einsum("na,abc->nbc", features, self.projection())
        distance = (m[:, None] - m[None]).abs().sum(dim=3)
        eye = torch.eye(len(features), device=features.device, dtype=distance.dtype)
        return distance + _SELF_DISTANCE * eye[:, :, None]

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if self.init_pending:
            self.initialise(features)
            self.init_pending = False
        similarity = torch.exp(-self.distances(features)).sum(dim=1)  # (n, B)
        return torch.cat([features, similarity + self.bias], dim=1)

    @torch.no_grad()
    def initialise(self, features: torch.Tensor) -> None:
        """Data-dependent init (the code's MinibatchLayer init pass): per kernel, rescale distances by
        1 / (0.5 · mean_i min_{j≠i} d_ij) (folded into s), then set β so that o has mean 0 on this batch."""
        if len(features) < 2:
            raise ValueError("minibatch discrimination needs a batch of at least 2 examples to initialise")
        nearest = self.distances(features).min(dim=1).values.mean(dim=0)  # (B,)
        self.log_scale -= torch.log(0.5 * nearest)[:, None]
        similarity = torch.exp(-self.distances(features)).sum(dim=1)
        self.bias.copy_(-similarity.mean(dim=0))


class VirtualBatchNorm(nn.Module):
    """Virtual batch normalisation (Salimans et al. §3.5), per-example as in the fixed ImageNet code.

    The input holds the reference batch first, then the live examples: set :attr:`reference_size` to the
    number of reference rows. Per channel, the reference rows give μ_ref and s_ref (mean and mean of squares
    over the reference batch and the spatial dims) and are normalised with them; each live example blends its
    own spatial statistics with weight c = 1/(N_ref + 1): μ = c μ_x + (1 − c) μ_ref, s = c s_x + (1 − c) s_ref,
    y = γ (x − μ) / sqrt(ε + s − μ²) + β. Input (N, C) or (N, C, H, W).
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(1 + 0.02 * torch.randn(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.reference_size = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n_ref = self.reference_size
        if not 0 < n_ref <= len(x):
            raise ValueError(
                f"VirtualBatchNorm needs the reference batch first in the input: reference_size={n_ref} for "
                f"{len(x)} rows; set it (e.g. with the generator's reference batch) before the forward pass"
            )
        spatial = tuple(range(2, x.dim()))
        reference = x[:n_ref]
        mean_ref = reference.mean(dim=(0, *spatial), keepdim=True)[0]
        square_ref = reference.pow(2).mean(dim=(0, *spatial), keepdim=True)[0]
        live = x[n_ref:]
        c = 1.0 / (n_ref + 1)
        if spatial:
            mean_live = c * live.mean(dim=spatial, keepdim=True) + (1 - c) * mean_ref
            square_live = c * live.pow(2).mean(dim=spatial, keepdim=True) + (1 - c) * square_ref
        else:
            mean_live = c * live + (1 - c) * mean_ref
            square_live = c * live.pow(2) + (1 - c) * square_ref
        shape = (1, -1) + (1,) * len(spatial)
        scale, shift = self.weight.view(shape), self.bias.view(shape)

        def normalise(values, mean, square):
            # clamp: E[x²] − E[x]² can round below 0 in float32
            return scale * (values - mean) / torch.sqrt(self.eps + (square - mean.pow(2)).clamp_min(0)) + shift

        return torch.cat([normalise(reference, mean_ref, square_ref), normalise(live, mean_live, square_live)])


class _WeightNormMixin:
    """W = g · V / ‖V‖ per output unit, bias added after normalising (Salimans & Kingma 2016; improved_gan.md §1.8).

    V ~ N(0, init_std²). While ``init_pending`` is set, the next forward pass performs the code's data-dependent
    init on its input: with t the normalised pre-activation, g ← init_scale / std(t) and b ← −mean(t) ·
    init_scale / std(t) per unit, so the layer's outputs start with mean 0 and std ``init_scale``. The gain g
    is trained only when ``train_gain`` (the code trains it in D's last layer and G's output layer only).
    """

    weight_v: nn.Parameter
    gain: nn.Parameter
    bias: nn.Parameter

    def _setup_weight_norm(self, out_features: int, init_std: float, init_scale: float, train_gain: bool) -> None:
        with torch.no_grad():
            self.weight_v.normal_(0.0, init_std)
        self.gain = nn.Parameter(torch.ones(out_features), requires_grad=train_gain)
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.init_scale = init_scale
        self.init_pending = False

    def _unit_axes(self) -> tuple[int, ...]:
        raise NotImplementedError

    def _direction(self) -> torch.Tensor:
        """V / ‖V‖ per output unit (for inspection; the forward pass scales the outputs instead)."""
        return self.weight_v / torch.linalg.vector_norm(self.weight_v, dim=self._unit_axes(), keepdim=True)

    def _broadcast(self, values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return values.view(1, -1, *([1] * (like.dim() - 2)))

    def _finish(self, raw: torch.Tensor) -> torch.Tensor:
        """raw: the input times the unnormalised V, (N, out, ...) -> (g / ‖V‖) · raw + b (after a pending init).

        Scaling the (N, out) outputs rather than the (out, in) weight is the same function with far less
        elementwise work on large layers; the official code does the same."""
        # rsqrt of the sum of squares: its backward is one multiply over V (vector_norm's is three passes)
        inverse_norm = torch.rsqrt(self.weight_v.pow(2).sum(dim=self._unit_axes()))
        if self.init_pending:
            with torch.no_grad():
                pre = raw * self._broadcast(inverse_norm, raw)
                axes = (0, *range(2, pre.dim()))
                mean, std = pre.mean(dim=axes), pre.std(dim=axes, correction=0)  # population std, as the code
                self.gain.copy_(self.init_scale / (std + 1e-8))
                self.bias.copy_(-mean * self.gain)
            self.init_pending = False
        return self._broadcast(self.gain * inverse_norm, raw) * raw + self._broadcast(self.bias, raw)


class WeightNormLinear(_WeightNormMixin, nn.Module):
    """Dense layer with weight normalisation and data-dependent init; (N, in) -> (N, out)."""

    def __init__(self, in_features: int, out_features: int, *, init_std: float = 0.05, init_scale: float = 1.0,
                 train_gain: bool = False) -> None:
        super().__init__()
        self.weight_v = nn.Parameter(torch.empty(out_features, in_features))
        self._setup_weight_norm(out_features, init_std, init_scale, train_gain)

    def _unit_axes(self) -> tuple[int, ...]:
        return (1,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._finish(x @ self.weight_v.t())


class WeightNormConv2d(_WeightNormMixin, nn.Module):
    """Convolution with weight normalisation (norm over in, kh, kw per output channel) and data-dependent init."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0, *,
                 init_std: float = 0.05, init_scale: float = 1.0, train_gain: bool = False) -> None:
        super().__init__()
        self.stride, self.padding = stride, padding
        self.weight_v = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self._setup_weight_norm(out_channels, init_std, init_scale, train_gain)

    def _unit_axes(self) -> tuple[int, ...]:
        return (1, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._finish(torch.nn.functional.conv2d(x, self.weight_v, None, self.stride, self.padding))


class WeightNormConvTranspose2d(_WeightNormMixin, nn.Module):
    """Transposed convolution with weight normalisation per output channel (G's output layer in the code)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 output_padding: int = 0, *, init_std: float = 0.05, init_scale: float = 1.0,
                 train_gain: bool = False) -> None:
        super().__init__()
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        self.weight_v = nn.Parameter(torch.empty(in_channels, out_channels, kernel_size, kernel_size))
        self._setup_weight_norm(out_channels, init_std, init_scale, train_gain)

    def _unit_axes(self) -> tuple[int, ...]:
        return (0, 2, 3)  # the weight is (in, out, kh, kw): one norm per output channel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._finish(torch.nn.functional.conv_transpose2d(
            x, self.weight_v, None, self.stride, self.padding, self.output_padding))


@torch.no_grad()
def data_dependent_init(model: nn.Module, *inputs: torch.Tensor) -> None:
    """Initialise every weight-normalised layer (and minibatch-discrimination layer) of ``model`` from one
    forward pass on ``inputs``, layer after layer (each sees the already-initialised layers before it), as the
    official code's init pass does."""
    layers = [m for m in model.modules() if isinstance(m, _WeightNormMixin | MinibatchDiscrimination)]
    if not layers:
        raise ValueError("data_dependent_init: the model has no weight-normalised layers")
    for layer in layers:
        layer.init_pending = True
    model(*inputs)
    pending = [type(m).__name__ for m in layers if m.init_pending]
    if pending:
        raise RuntimeError(f"the init pass did not reach {len(pending)} weight-normalised layers ({pending})")


class MnistSSLGenerator(nn.Module):
    """Improved-GAN's MNIST generator (improved_gan.md §2.1): z ∈ R^100 ~ U[0, 1) -> 2 x (dense 500, BN without
    gain, softplus) -> weight-normalised dense 784 with trainable gain -> sigmoid; images (B, 1, 28, 28) in [0, 1].
    """

    latent_distribution = "uniform"
    output_range = "unit"
    image_shape = (1, 28, 28)

    def __init__(self, latent_dim: int = 100, width: int = 500) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        layers: list[nn.Module] = []
        for in_features in (latent_dim, width):
            norm = nn.BatchNorm1d(width)
            norm.weight.requires_grad_(False)  # "BN(no-scale)": a learned bias, no learned gain
            layers += [nn.Linear(in_features, width, bias=False), norm, nn.Softplus()]
        self.body = nn.Sequential(*layers)
        self.output = WeightNormLinear(width, 28 * 28, init_std=0.05, train_gain=True)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.output(self.body(z))).view(-1, *self.image_shape)


class MnistSSLDiscriminator(nn.Module):
    """Improved-GAN's MNIST K-class discriminator (improved_gan.md §2.1): input noise σ 0.3, five weight-normalised
    ReLU layers (1000, 500, 250, 250, 250) each followed by noise σ 0.5, and a weight-normalised 10-way output
    with trainable gain. ``forward`` -> (logits (B, 10), features (B, 250)): the features are the last hidden
    layer before its noise, where the code matches features. The fake class's logit is fixed at 0 (not output).
    """

    def __init__(self, num_classes: int = 10, widths: tuple[int, ...] = (1000, 500, 250, 250, 250),
                 input_noise: float = 0.3, hidden_noise: float = 0.5) -> None:
        super().__init__()
        self.input_noise = GaussianNoise(input_noise)
        self.hidden = nn.ModuleList()
        self.noise = nn.ModuleList()
        in_features = 28 * 28
        for width in widths:
            self.hidden.append(WeightNormLinear(in_features, width, init_std=0.1))
            self.noise.append(GaussianNoise(hidden_noise))
            in_features = width
        self.output = WeightNormLinear(in_features, num_classes, init_std=0.1, train_gain=True)
        self.feature_dim = widths[-1]

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.input_noise(images.flatten(1))
        features = h
        for layer, noise in zip(self.hidden, self.noise, strict=True):
            features = torch.relu(layer(h))
            h = noise(features)
        return self.output(h), features


class _NoScaleBatchNorm(nn.Module):
    """The code's "BN(no-scale)": batch normalisation with a learned bias and no learned gain."""

    def __init__(self, num_features: int, dims: int) -> None:
        super().__init__()
        self.norm = (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(num_features)
        self.norm.weight.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)


class CifarGenerator(nn.Module):
    """Improved-GAN's CIFAR-10/SVHN generator (improved_gan.md §2.2): z ∈ R^100 ~ U[0, 1) -> dense 4·4·(4w)
    -> norm -> ReLU -> 5x5 stride-2 deconvs to 2w@8 and w@16 (norm, ReLU) -> weight-normalised 5x5 stride-2
    deconv to 3@32 with trainable gain (init scale 0.1) -> tanh; w = 128 in the code (512, 256, 128 channels).

    ``norm="bn"`` is the code's BN without gain (batch statistics, also when sampling: call it in train mode).
    ``norm="vbn"`` is virtual batch norm (§3.5): a fixed reference batch of latents, drawn once from the latent
    distribution, goes through the current G in front of every batch; each example is normalised with the
    reference statistics blended with its own. Outputs do not depend on the other examples of the batch. Both
    norms act where the code's BN does, per unit of the dense layer's 4·4·4w outputs: a per-channel VBN there
    (the ImageNet code's form, with zero-mean latents) would keep each unit's z-independent offset
    0.5·Σ_j W_ij under U[0, 1) latents, about 72% of that layer's variance at width 16, and the generator would
    start 2.5× less dependent on z than with BN (tests/nets/test_improved_gan.py).
    """

    latent_distribution = "uniform"
    output_range = "symmetric"
    image_shape = (3, 32, 32)

    def __init__(self, latent_dim: int = 100, width: int = 128, norm: str = "bn", reference_size: int = 100,
                 seed: int = 0) -> None:
        super().__init__()
        if norm not in ("bn", "vbn"):
            raise ValueError(f"norm must be 'bn' or 'vbn', got {norm!r}")
        self.latent_dim, self.width, self.norm = latent_dim, width, norm
        channels = (4 * width, 2 * width, width)

        def normalise(n: int, dims: int) -> nn.Module:
            return _NoScaleBatchNorm(n, dims) if norm == "bn" else VirtualBatchNorm(n)

        self.dense = nn.Linear(latent_dim, channels[0] * 16, bias=False)
        nn.init.normal_(self.dense.weight, 0.0, 0.05)
        # per unit of the dense layer's 8192 outputs for both norms, as the code's BN: with z ~ U[0, 1) each unit
        # has a z-independent offset 0.5 * sum_j W_ij that a per-channel (over 4x4) VBN would leave in place
        self.dense_norm = normalise(channels[0] * 16, 1)
        blocks: list[nn.Module] = []
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            deconv = nn.ConvTranspose2d(c_in, c_out, 5, stride=2, padding=2, output_padding=1, bias=False)
            nn.init.normal_(deconv.weight, 0.0, 0.05)
            blocks += [deconv, normalise(c_out, 2), nn.ReLU()]
        self.blocks = nn.Sequential(*blocks)
        self.output = WeightNormConvTranspose2d(width, 3, 5, stride=2, padding=2, output_padding=1, init_std=0.05,
                                                init_scale=0.1, train_gain=True)
        if norm == "vbn":
            reference = torch.rand(reference_size, latent_dim, generator=torch.Generator().manual_seed(seed))
            self.register_buffer("reference_latents", reference)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        n_ref = 0
        if self.norm == "vbn":
            n_ref = len(self.reference_latents)
            z = torch.cat([self.reference_latents.to(z.dtype), z])
            for module in self.modules():
                if isinstance(module, VirtualBatchNorm):
                    module.reference_size = n_ref
        h = self.dense(z)
        # the code normalises the dense layer's 8192 units, then reshapes (VBN likewise: per unit)
        h = self.dense_norm(h).view(-1, 4 * self.width, 4, 4)
        h = self.blocks(torch.relu(h))
        return torch.tanh(self.output(h))[n_ref:]


class CifarDiscriminator(nn.Module):
    """Improved-GAN's CIFAR-10/SVHN discriminator (improved_gan.md §2.2-2.3), the paper's 9-layer weight-normalised
    CNN: 3x3 convs (w1, w1, w1 stride 2), dropout 0.5, (w2, w2, w2 stride 2), dropout 0.5, 3x3 valid w2, two 1x1
    w2, lrelu 0.2 throughout, global mean pool (the FM features), then a weight-normalised dense layer to the
    K logits (trainable gain, init scale 0.1). w = (96, 192) for CIFAR, (64, 128) for the SVHN FM script.

    ``minibatch=False``: the FM script (input dropout 0.2). ``minibatch=True``: the MBD script (input noise
    σ 0.2 and a minibatch-discrimination layer, B = 100, C = 5, between the pool and the dense layer).
    ``input_layer`` ("dropout" or "noise") overrides the input layer, e.g. the MBD D without its minibatch
    layer for Table 3's "−MBF" column.
    ``forward`` -> (logits (B, K), pooled features (B, w2)). Initialise with :func:`data_dependent_init`.
    """

    def __init__(self, num_classes: int = 10, widths: tuple[int, int] = (96, 192), minibatch: bool = False,
                 num_kernels: int = 100, kernel_dim: int = 5, input_layer: str | None = None) -> None:
        super().__init__()
        w1, w2 = widths
        input_layer = input_layer or ("noise" if minibatch else "dropout")
        if input_layer not in ("dropout", "noise"):
            raise ValueError(f"input_layer must be 'dropout' or 'noise', got {input_layer!r}")
        self.input_layer: nn.Module = GaussianNoise(0.2) if input_layer == "noise" else nn.Dropout(0.2)

        def conv(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, padding: int = 1) -> list[nn.Module]:
            return [WeightNormConv2d(c_in, c_out, kernel, stride, padding, init_std=0.05), nn.LeakyReLU(0.2)]

        self.body = nn.Sequential(
            *conv(3, w1), *conv(w1, w1), *conv(w1, w1, stride=2), nn.Dropout(0.5),
            *conv(w1, w2), *conv(w2, w2), *conv(w2, w2, stride=2), nn.Dropout(0.5),
            *conv(w2, w2, padding=0), *conv(w2, w2, 1, padding=0), *conv(w2, w2, 1, padding=0),
        )
        self.minibatch = MinibatchDiscrimination(w2, num_kernels, kernel_dim) if minibatch else None
        head_in = w2 + (num_kernels if minibatch else 0)
        self.output = WeightNormLinear(head_in, num_classes, init_std=0.05, init_scale=0.1, train_gain=True)
        self.feature_dim = w2

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(self.input_layer(images)).mean(dim=(2, 3))
        h = self.minibatch(features) if self.minibatch is not None else features
        return self.output(h), features
