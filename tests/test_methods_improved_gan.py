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
