"""repro.methods.improved_gan: historical averaging keeps the mean of all past parameter values."""

import pytest
import torch

from repro.methods.improved_gan import HistoricalAverage


def test_historical_average_is_the_mean_of_past_parameters_and_penalises_the_distance():
    parameter = torch.nn.Parameter(torch.tensor([0.0, 2.0]))
    average = HistoricalAverage([parameter], weight=0.5)
    history = [parameter.detach().clone()]
    for value in ([1.0, 1.0], [5.0, -1.0], [2.0, 4.0]):
        with torch.no_grad():
            parameter.copy_(torch.tensor(value))
        history.append(parameter.detach().clone())
        average.update()
    mean = torch.stack(history).mean(dim=0)
    assert torch.allclose(average.means()[0], mean)
    assert average.penalty().item() == pytest.approx(0.5 * ((parameter.detach() - mean) ** 2).sum().item())
    average.penalty().backward()
    assert torch.allclose(parameter.grad, 2 * 0.5 * (parameter.detach() - mean))
    assert "mean_0" in average.state_dict() and int(average.state_dict()["steps"]) == 3


def toy_digits(n_per_class: int, seed: int):
    """28x28 'digits' in [0, 255]: class k lights up row band k."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(10).repeat_interleave(n_per_class)
    images = torch.randint(0, 40, (len(labels), 1, 28, 28), dtype=torch.uint8, generator=generator)
    for i, k in enumerate(labels.tolist()):
        images[i, 0, 2 * k + 3 : 2 * k + 6, 4:24] = 255
    return images, labels


def test_semi_supervised_gan_trains_resumes_and_its_average_classifies(tmp_path):
    from repro.data import DeviceBatches, to_float
    from repro.methods.improved_gan import SemiSupervisedGAN, classification_error
    from repro.nets.improved_gan import MnistSSLDiscriminator, MnistSSLGenerator, data_dependent_init
    from repro.train import TrainConfig, train

    torch.manual_seed(0)
    images, labels = toy_digits(20, seed=0)
    generator = MnistSSLGenerator(latent_dim=16, width=32)
    discriminator = MnistSSLDiscriminator(widths=(64, 32), input_noise=0.1, hidden_noise=0.1)
    data_dependent_init(discriminator, to_float(images[:100], "unit"))
    data_dependent_init(generator, torch.rand(100, 16))
    labeled = torch.arange(0, 200, 20)  # one label per class
    method = SemiSupervisedGAN(generator, discriminator, images[labeled], labels[labeled], average_decay=0.9)
    config = TrainConfig(steps=60, batch_size=20, lr_g=3e-3, lr_d=3e-3, progress=False, log_every=20,
                         checkpoint_every=30)
    train(method, DeviceBatches(images, None, 20, value_range="unit"), config, tmp_path, value_range="unit")
    test_images, test_labels = toy_digits(5, seed=1)
    assert classification_error(method.discriminator, test_images, test_labels) < 0.2
    assert classification_error(method.evaluation_discriminator(bias_corrected=True), test_images, test_labels) < 0.2
    assert int(method.average_steps) == 60
    # the labeled set and the average travel in the checkpoint
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["method"]
    assert "labeled_images" in state and any(k.startswith("d_average.") for k in state)


def test_uniform_latents_and_feature_matching_needs_real():
    from repro.methods.improved_gan import SemiSupervisedGAN
    from repro.nets.improved_gan import MnistSSLDiscriminator, MnistSSLGenerator

    images, labels = toy_digits(1, seed=0)
    method = SemiSupervisedGAN(MnistSSLGenerator(latent_dim=8, width=16), MnistSSLDiscriminator(widths=(16,)),
                               images, labels)
    z = method.sample_latent(1000)
    assert z.min() >= 0 and z.max() < 1 and abs(z.mean().item() - 0.5) < 0.05
    with pytest.raises(ValueError, match="real batch"):
        method.generator_loss(4, labels[:4])
