"""Games and their equilibria: the two-player games a GAN lecture starts from, and the Dirac-GAN.

A game of two players is a payoff table: ``payoffs[i, j]`` is what (row player, column player) get
when the row player takes action ``i`` and the column player action ``j``. A pure Nash equilibrium
is a pair of actions in which each is a best response to the other (``pure_nash``): neither
player gains by changing alone.

A GAN is a two-player zero-sum game: the discriminator maximises V(D, G), the generator minimises
it. The Dirac-GAN (Mescheder, Geiger & Nowozin, "Which Training Methods for GANs do actually
Converge?", ICML 2018) is the smallest one: the data is the single point 0, the generator puts all
its mass at theta, and the discriminator is linear, D(x) = psi * x. With f(t) = -log(1 + exp(-t)),

    V(theta, psi) = f(psi * theta) + f(0),

whose only equilibrium is (theta, psi) = (0, 0). ``dirac_path`` follows gradient steps on it:
simultaneous steps spiral away from the equilibrium, alternating steps circle it, and a gradient
penalty on the discriminator at the data (R1: gamma / 2 * psi**2) makes them converge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Game", "PRISONERS_DILEMMA", "BOXED_PIGS", "GAMES", "best_responses", "pure_nash",
           "dirac_field", "dirac_path", "UPDATE_RULES"]


@dataclass(frozen=True)
class Game:
    """A two-player game in normal form: ``payoffs`` has shape (rows, columns, 2)."""

    name: str
    players: tuple[str, str]
    actions: tuple[tuple[str, ...], tuple[str, ...]]
    payoffs: tuple  # nested tuples (hashable); ``table`` gives the array
    story: str = ""

    def __post_init__(self):
        table = self.table
        if table.shape != (len(self.actions[0]), len(self.actions[1]), 2):
            raise ValueError(f"{self.name}: payoffs have shape {table.shape}, actions need "
                             f"({len(self.actions[0])}, {len(self.actions[1])}, 2)")

    @property
    def table(self) -> np.ndarray:
        return np.asarray(self.payoffs, dtype=float)


PRISONERS_DILEMMA = Game(
    name="prisoner's dilemma",
    players=("prisoner A", "prisoner B"),
    actions=(("stay silent", "confess"), ("stay silent", "confess")),
    # years in prison, as negative payoffs: both silent 1 year each; one confesses and goes free while
    # the other gets 10; both confess, 5 years each
    payoffs=(((-1, -1), (-10, 0)), ((0, -10), (-5, -5))),
    story="Each prisoner is better off confessing whatever the other does, so both confess, "
          "though both staying silent would be better for both.",
)

BOXED_PIGS = Game(
    name="boxed pigs",
    players=("big pig", "small pig"),
    actions=(("press", "wait"), ("press", "wait")),
    # The lever drops 10 units of food at the far end and pressing it costs 2 units of effort. Whoever
    # waits is at the trough first: big pig first 9:1, both at once 7:3, small pig first 6:4.
    payoffs=(((7 - 2, 3 - 2), (6 - 2, 4)), ((9, 1 - 2), (0, 0))),
    story="Waiting is the small pig's best response whatever the big pig does, and given that, "
          "the big pig presses the lever: the small pig waits.",
)

GAMES = {game.name: game for game in (PRISONERS_DILEMMA, BOXED_PIGS)}


def best_responses(game: Game, player: int) -> list[set[int]]:
    """For each action of the other player, the set of ``player``'s (0: row, 1: column) best actions."""
    if player not in (0, 1):
        raise ValueError(f"player must be 0 (row) or 1 (column), got {player!r}")
    own = game.table[..., player] if player == 0 else game.table[..., player].T  # (own action, other action)
    return [set(np.flatnonzero(np.isclose(own[:, other], own[:, other].max())).tolist()) for other in range(own.shape[1])]


def pure_nash(game: Game) -> list[tuple[int, int]]:
    """Every pair (row action, column action) in which each action is a best response to the other."""
    rows, columns = best_responses(game, 0), best_responses(game, 1)
    return [(i, j) for i in range(len(game.actions[0])) for j in range(len(game.actions[1])) if i in rows[j] and j in columns[i]]


# --- the Dirac-GAN ------------------------------------------------------------------------------

UPDATE_RULES = ("simultaneous", "alternating", "r1")


def _f_prime(t):
    """f'(t) for f(t) = -log(1 + exp(-t)): the sigmoid of -t."""
    return 0.5 * (1.0 - np.tanh(0.5 * t))


def dirac_field(theta, psi, *, gamma: float = 0.0):
    """The gradient vector field of the Dirac-GAN at (theta, psi): (generator's step, discriminator's step) per unit rate.

    The generator descends V, the discriminator ascends V - gamma / 2 * psi**2 (R1 at the data point).
    """
    theta, psi = np.asarray(theta, dtype=float), np.asarray(psi, dtype=float)
    slope = _f_prime(psi * theta)
    return -psi * slope, theta * slope - gamma * psi


def dirac_path(rule: str, *, steps: int = 300, lr: float = 0.1, gamma: float = 1.0, start=(1.0, 1.0)) -> np.ndarray:
    """(steps + 1, 2) points (theta, psi) of gradient steps from ``start``.

    ``rule``: "simultaneous" (both players step from the same point), "alternating" (the
    discriminator steps, then the generator answers the new discriminator) or "r1" (simultaneous
    steps with R1 regularisation of weight ``gamma``).
    """
    if rule not in UPDATE_RULES:
        raise ValueError(f"unknown update rule {rule!r}; available: {', '.join(UPDATE_RULES)}")
    if steps < 1 or lr <= 0:
        raise ValueError(f"steps must be >= 1 and lr > 0, got {steps} and {lr}")
    penalty = gamma if rule == "r1" else 0.0
    points = np.empty((steps + 1, 2))
    points[0] = start
    theta, psi = start
    for step in range(1, steps + 1):
        if rule == "alternating":
            psi = psi + lr * dirac_field(theta, psi)[1]
            theta = theta + lr * dirac_field(theta, psi)[0]
        else:
            d_theta, d_psi = dirac_field(theta, psi, gamma=penalty)
            theta, psi = theta + lr * d_theta, psi + lr * d_psi
        points[step] = theta, psi
    return points
