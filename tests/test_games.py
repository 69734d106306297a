"""The lecture's games: payoff tables and their pure Nash equilibria, and the Dirac-GAN's dynamics."""

import numpy as np
import pytest

from ganapps.lab import games


def named(game, pairs):
    return [(game.actions[0][i], game.actions[1][j]) for i, j in pairs]


def test_prisoners_confess_and_the_small_pig_waits():
    assert named(games.PRISONERS_DILEMMA, games.pure_nash(games.PRISONERS_DILEMMA)) == [("confess", "confess")]
    assert named(games.BOXED_PIGS, games.pure_nash(games.BOXED_PIGS)) == [("press", "wait")]
    # the small pig's best response is to wait whatever the big pig does (a dominant strategy); the big
    # pig's depends on it: wait if the small pig presses, press if it waits
    assert games.best_responses(games.BOXED_PIGS, 1) == [{1}, {1}]
    assert games.best_responses(games.BOXED_PIGS, 0) == [{1}, {0}]
    big_first, both, small_first = (9, 1), (7, 3), (6, 4)  # the shares of the 10 units of food
    table = games.BOXED_PIGS.table
    assert tuple(table[1, 0]) == (big_first[0], big_first[1] - 2) and tuple(table[0, 0]) == (both[0] - 2, both[1] - 2)
    assert tuple(table[0, 1]) == (small_first[0] - 2, small_first[1])


def test_a_game_with_two_equilibria_and_one_with_none():
    coordination = games.Game("meet", ("A", "B"), (("cafe", "park"), ("cafe", "park")), (((2, 2), (0, 0)), ((0, 0), (1, 1))))
    assert games.pure_nash(coordination) == [(0, 0), (1, 1)]
    pennies = games.Game("pennies", ("A", "B"), (("heads", "tails"), ("heads", "tails")), (((1, -1), (-1, 1)), ((-1, 1), (1, -1))))
    assert games.pure_nash(pennies) == []  # zero-sum with no pure equilibrium: only a mixed one
    with pytest.raises(ValueError, match="payoffs have shape"):
        games.Game("bad", ("A", "B"), (("x",), ("y", "z")), (((1, 1),),))


def distance(path):
    return np.linalg.norm(path, axis=1) / np.linalg.norm(path[0])


def test_dirac_gan_simultaneous_spirals_out_alternating_circles_r1_converges():
    simultaneous, alternating, r1 = (distance(games.dirac_path(rule, steps=1000)) for rule in games.UPDATE_RULES)
    assert simultaneous[-1] > 1.5 and np.all(np.diff(simultaneous) > 0)  # every step moves further away
    assert 0.5 < alternating.min() and alternating.max() < 2 and alternating[-1] > 0.5  # bounded, never converging
    assert r1[-1] < 0.05


def test_dirac_field_points_the_players_opposite_ways_and_vanishes_at_the_equilibrium():
    d_theta, d_psi = games.dirac_field(np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]))
    assert d_theta[0] == d_psi[0] == 0.0
    assert d_psi[1] > 0 and d_theta[1] == 0  # generator right of the data: D's weight grows
    assert d_theta[2] < 0  # the generator sits on the data, yet a sloped D pushes it off: the game is not at rest
    assert games.dirac_field(0.0, 1.0, gamma=1.0)[1] == pytest.approx(-1.0)  # R1 pulls psi back to 0
    with pytest.raises(ValueError, match="unknown update rule 'momentum'"):
        games.dirac_path("momentum")
