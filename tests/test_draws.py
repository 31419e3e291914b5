"""Every run's randomness: the batch engine's fast draws are the Mesa model's numbers exactly."""

import numpy as np

from sim.core.constraints import SEED_MAX
from sim.core.draws import draw_table, pcg64_states, seed_generator, unique_seed_draws

#: Seeds of every kind: zero, one 32-bit word, two words, the largest allowed, repeats.
SEEDS = [0, 1, 7, 12345, 2**32 - 1, 2**32, 2**40 + 3, SEED_MAX, 12345, 0]


def test_generator_states_are_numpys_for_every_kind_of_seed():
    for seed, (state, inc) in zip(
        SEEDS, pcg64_states(np.array(SEEDS, dtype=np.uint64)), strict=True
    ):
        want = seed_generator(seed).bit_generator.state["state"]
        assert (state, inc) == (want["state"], want["inc"]), seed


def test_batch_draws_are_the_tables_each_seed_draws_alone():
    draws = unique_seed_draws(np.array(SEEDS), rounds=40, n_firms=3)
    assert draws.uniforms.shape == (40, 8, len(set(SEEDS)))
    for k, seed in enumerate(SEEDS):
        alone = draw_table(seed_generator(seed), 40, 3)  # what BalancingModel(rng=seed) draws
        i = draws.inverse[k]
        np.testing.assert_array_equal(draws.setup[:, i], alone.setup)
        np.testing.assert_array_equal(draws.uniforms[:, :, i], alone.uniforms)
        np.testing.assert_array_equal(draws.normals[:, i], alone.normals)
