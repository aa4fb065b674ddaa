"""repro.methods.improved_gan: historical averaging keeps the mean of all past parameter values."""

import copy

import pytest
import torch
import torch.nn.functional as F

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
    from repro.data import DeviceBatches
    from repro.images import to_float
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


def _ssl(discriminator, n_labels=20, joint_forward=None, seed=0):
    from repro.methods.improved_gan import SemiSupervisedGAN
    from repro.nets.improved_gan import MnistSSLGenerator

    images, labels = toy_digits(n_labels // 10, seed=1)
    torch.manual_seed(seed)
    return SemiSupervisedGAN(MnistSSLGenerator(width=16), discriminator, images, labels,
                             joint_forward=joint_forward, seed=seed)


def test_labeled_batches_repeat_permutations_of_the_labeled_set_as_the_code():
    from repro.nets.improved_gan import MnistSSLDiscriminator

    method = _ssl(MnistSSLDiscriminator(widths=(8,)), n_labels=20)
    images, classes = method.labeled_batch(100)
    assert len(classes) == 100 and torch.equal(torch.bincount(classes, minlength=10), torch.full((10,), 10))
    # each block of 20 is one permutation: every labeled image exactly once per block
    flat = images.flatten(1)
    for block in range(5):
        chunk = flat[20 * block : 20 * (block + 1)]
        assert len(torch.unique(chunk, dim=0)) == 20
    # the exact stream: back-to-back permutations from the method's seeded generator, across batch borders
    fresh = _ssl(MnistSSLDiscriminator(widths=(8,)), n_labels=20)
    reference = torch.Generator().manual_seed(0)
    expected = torch.cat([torch.randperm(20, generator=reference) for _ in range(8)])
    drawn = torch.cat([fresh.labeled_batch(size)[1] for size in (30, 50, 80)])
    assert torch.equal(drawn, fresh.labeled_labels[expected])


def test_joint_forward_is_the_same_function_and_is_refused_for_mixing_discriminators():
    from repro.methods.improved_gan import mixes_examples
    from repro.nets.improved_gan import CifarDiscriminator, MnistSSLDiscriminator

    torch.manual_seed(5)
    template = MnistSSLDiscriminator(widths=(16, 8))
    separate = _ssl(copy.deepcopy(template), joint_forward=False, seed=3)
    joint = _ssl(copy.deepcopy(template), seed=3)
    assert joint.joint_forward and not separate.joint_forward
    separate.discriminator.eval(), joint.discriminator.eval()  # noise off: the two must agree exactly
    real = torch.rand(10, 1, 28, 28)
    loss_separate, logs_separate = separate.discriminator_loss(real, None)
    loss_joint, logs_joint = joint.discriminator_loss(real, None)
    assert torch.allclose(loss_separate, loss_joint, atol=1e-6)
    assert torch.allclose(logs_separate["loss_unlabeled"], logs_joint["loss_unlabeled"], atol=1e-6)
    # the G step: real features without a graph, then the fake batch; the loss and G's gradient must be
    # those of one concatenated pass with the real means held constant (noise off)
    noise_state = joint.noise.get_state()
    loss = joint.generator_loss(10, None, real)[0]
    loss.backward()
    step_grads = [p.grad.clone() for p in joint.generator.parameters() if p.grad is not None]
    joint.generator.zero_grad(set_to_none=True)
    joint.noise.set_state(noise_state)
    fake = joint.generator(joint.sample_latent(10))
    features = joint.discriminator(torch.cat([real, fake]))[1]
    reference = (features[10:].mean(0) - features[:10].detach().mean(0)).pow(2).mean()
    reference.backward()
    reference_grads = [p.grad for p in joint.generator.parameters() if p.grad is not None]
    assert torch.allclose(loss, reference, atol=1e-6) and len(step_grads) == len(reference_grads) > 0
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(step_grads, reference_grads, strict=True))

    mbd = CifarDiscriminator(widths=(4, 8), minibatch=True, num_kernels=3, kernel_dim=2)
    assert mixes_examples(mbd) == ["MinibatchDiscrimination"] and mixes_examples(template) == []
    assert not _ssl(mbd).joint_forward
    with pytest.raises(ValueError, match="cross-example"):
        _ssl(mbd, joint_forward=True)


def test_minibatch_gan_objectives_label_smoothing_and_historical_averaging(tmp_path):
    """Table 3's sample-quality model: MBD D, VBN G, saturating G loss with 3 G steps, LS, HA, with or without
    labels; each loss equals its formula and a short run trains, checkpoints and resumes."""
    from repro import losses
    from repro.data import DeviceBatches
    from repro.methods.improved_gan import SemiSupervisedGAN
    from repro.nets.improved_gan import CifarDiscriminator, CifarGenerator, data_dependent_init
    from repro.train import TrainConfig, train

    def build(**options):
        torch.manual_seed(0)
        generator = CifarGenerator(width=4, norm="vbn", reference_size=4)
        discriminator = CifarDiscriminator(widths=(4, 8), minibatch=True, num_kernels=5, kernel_dim=3)
        data_dependent_init(discriminator, torch.rand(16, 3, 32, 32) * 2 - 1)
        images = torch.randint(0, 256, (20, 3, 32, 32), dtype=torch.uint8)
        options = {"generator_objective": "minimax", **options}
        return SemiSupervisedGAN(generator, discriminator, images, torch.arange(20) % 10, value_range="symmetric",
                                 seed=0, **options)

    method = build(real_target=0.9, historical_average=1e-2)
    assert not method.generator_needs_real and not method.joint_forward
    real = torch.rand(8, 3, 32, 32) * 2 - 1
    method.discriminator.eval(), method.generator.eval()  # deterministic D (VBN G is batch-independent anyway)
    state = method.noise.get_state()
    fake = method.generator(method.sample_latent(8))
    method.noise.set_state(state)
    expected = losses.g_loss_minimax(torch.logsumexp(method.discriminator(fake)[0], 1))
    assert method.generator_loss(8, None)[0].item() == pytest.approx(expected.item(), rel=1e-5)  # HA penalty 0 now

    unsupervised = build(use_labels=False)
    unsupervised.discriminator.eval()
    d_loss, d_logs = unsupervised.discriminator_loss(real, None)
    assert "loss_labeled" not in d_logs and d_loss.item() == pytest.approx(d_logs["loss_unlabeled"].item())
    with pytest.raises(ValueError, match="use_labels=True needs"):
        SemiSupervisedGAN(CifarGenerator(width=4), CifarDiscriminator(widths=(4, 8)), None, None)
    with pytest.raises(ValueError, match="generator_objective"):
        build(generator_objective="wasserstein")

    method = build(real_target=0.9, historical_average=1e-2)
    data = DeviceBatches(torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8), None, batch_size=8, seed=0)
    config = TrainConfig(steps=4, batch_size=8, n_gen=3, lr_g=3e-4, lr_d=3e-4, checkpoint_every=2, log_every=2,
                         progress=False)
    train(method, data, config, tmp_path)
    assert int(method.d_history.steps) == 4 and int(method.g_history.steps) == 12  # 3 G steps per D step
    assert method.d_history.penalty().item() > 0  # D moved away from the mean of its past
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["method"]
    assert any(k.startswith("g_history.mean_") for k in saved) and "generator.reference_latents" in saved


def test_labeled_stream_covers_the_set_once_per_pass_and_the_average_skips_frozen_gains():
    from repro.nets.improved_gan import MnistSSLDiscriminator

    method = _ssl(MnistSSLDiscriminator(widths=(8,)), n_labels=30)
    drawn = [method.labeled_batch(10)[1] for _ in range(3)]  # 30 labels, batches of 10: one pass
    images = torch.cat([method.labeled_batch(10)[0] for _ in range(3)])
    assert torch.equal(torch.bincount(torch.cat(drawn), minlength=10), torch.full((10,), 3))
    assert len(torch.unique(images.flatten(1), dim=0)) == 30  # the second pass, too, draws every image once
    # the stream's state survives a checkpoint mid-pass and loads into a freshly built method
    method.labeled_batch(7)
    fresh = _ssl(MnistSSLDiscriminator(widths=(8,)), n_labels=30)
    fresh.load_state_dict(method.state_dict())
    fresh.noise.set_state(method.noise.get_state())
    assert torch.equal(fresh.labeled_batch(40)[1], method.labeled_batch(40)[1])

    # the evaluation average: trainable parameters averaged from zero, frozen gains copied (as the code)
    discriminator = method.discriminator
    frozen = discriminator.hidden[0].gain
    assert not frozen.requires_grad
    with torch.no_grad():
        frozen.fill_(3.0)
        discriminator.hidden[0].bias.fill_(2.0)
    method._update_average()
    plain = method.evaluation_discriminator(bias_corrected=False)
    assert torch.allclose(plain.hidden[0].gain, torch.full_like(frozen, 3.0))
    assert torch.allclose(plain.hidden[0].bias, torch.full_like(frozen, 2.0 * (1 - method.average_decay)))
    corrected = method.evaluation_discriminator(bias_corrected=True)
    assert torch.allclose(corrected.hidden[0].bias, torch.full_like(frozen, 2.0), rtol=1e-4)
    assert torch.allclose(corrected.hidden[0].gain, torch.full_like(frozen, 3.0))


def test_labels_only_step_is_one_update_on_the_labeled_cross_entropy_alone():
    from repro.nets.improved_gan import MnistSSLDiscriminator

    method = _ssl(MnistSSLDiscriminator(widths=(8,)), n_labels=20)
    method.discriminator.eval()  # noise off, so the loss can be recomputed exactly
    twin = copy.deepcopy(method)
    images, classes = twin.labeled_batch(30)  # the same stream position and generator state
    expected = F.cross_entropy(twin.discriminator(images)[0], classes)
    expected.backward()
    generator_before = copy.deepcopy(method.generator.state_dict())
    average_before = copy.deepcopy(method.d_average.state_dict())
    loss = method.labels_only_step(30, torch.optim.SGD(method.discriminator.parameters(), lr=0.5))
    assert torch.allclose(loss, expected.detach(), atol=1e-6)
    for updated, original in zip(method.discriminator.parameters(), twin.discriminator.parameters(), strict=True):
        if original.requires_grad:
            assert torch.allclose(updated, original - 0.5 * original.grad, atol=1e-6)
        else:  # the hidden layers' frozen weight-norm gains
            assert torch.equal(updated, original)
    assert all(torch.equal(v, method.generator.state_dict()[k]) for k, v in generator_before.items())
    assert all(torch.equal(v, method.d_average.state_dict()[k]) for k, v in average_before.items())
    assert int(method.labeled_position) == int(twin.labeled_position)
