"""The EMA of the training loop: what it averages, what it copies, what it leaves."""

from __future__ import annotations

import torch
import torch.nn as nn

from codi_studio.toyworld.training.diffusion import EMA


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.trained = nn.Linear(2, 2)
        self.frozen = nn.Linear(2, 2).requires_grad_(False)
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        self.register_buffer("running", torch.zeros(2))


def test_ema_averages_trainable_weights_and_float_buffers_and_copies_counters() -> None:
    net = _Net()
    frozen_before = net.frozen.weight.detach().clone()
    ema = EMA(net, decay=0.5, warmup=1)  # decay min(0.5, (1 + n) / (1 + n)) = 0.5 from the first update
    start = ema.shadow.trained.weight.detach().clone()
    with torch.no_grad():
        net.trained.weight.add_(1.0)
        net.running.fill_(4.0)
        net.steps.fill_(7)
    ema.update()
    torch.testing.assert_close(ema.shadow.trained.weight, start + 0.5)
    torch.testing.assert_close(ema.shadow.running, torch.full((2,), 2.0))
    assert int(ema.shadow.steps) == 7
    assert torch.equal(ema.shadow.frozen.weight, frozen_before)
    for _ in range(40):
        ema.update()
    torch.testing.assert_close(ema.shadow.trained.weight, net.trained.weight, atol=1e-6, rtol=0)
    assert not ema.shadow.trained.weight.requires_grad  # a copy, never trained itself


def test_ema_warm_up_follows_the_first_steps_closely() -> None:
    net = _Net()
    ema = EMA(net, decay=0.999, warmup=10)
    initial = net.trained.bias.detach().clone()
    with torch.no_grad():
        net.trained.bias.fill_(1.0)
    ema.update()  # decay (1 + 1) / (10 + 1): the random init keeps 18 %, not 99.9 %
    torch.testing.assert_close(ema.shadow.trained.bias, initial * 2 / 11 + 9 / 11)
