"""CSD digit counts and their expectation under the weight prior."""

import numpy as np
import pytest

from estimators import WeightPrior, csd_digit_count, expected_csd_digits


def _naf_digits(x: int) -> int:
    x, count = abs(x), 0
    while x:
        if x & 1:
            x -= 2 - (x % 4)
            count += 1
        x //= 2
    return count


def test_digit_count_matches_non_adjacent_form():
    values = np.arange(-2048, 2048)
    assert np.array_equal(csd_digit_count(values), [_naf_digits(int(v)) for v in values])


def test_csd_beats_binary_on_runs_of_ones():
    assert csd_digit_count(np.array([7, 15, 0, 1, 64]))[:2].tolist() == [2, 2]
    assert csd_digit_count(np.array([0]))[0] == 0


@pytest.mark.parametrize("bits, kind", [(4, "fixed"), (6, "fixed"), (8, "fixed"), (2, "ternary"), (1, "binary")])
def test_expected_digits_match_sampling_from_the_prior(bits, kind):
    prior = WeightPrior(sparsity=0.3, scale=0.35)
    ints = prior.sample(np.random.default_rng(0), (200_000,), bits, kind)
    assert expected_csd_digits(bits, kind, prior) == pytest.approx(csd_digit_count(ints).mean(), rel=0.02)


def test_sparser_kernels_expect_fewer_digits():
    assert expected_csd_digits(6, "fixed", WeightPrior(0.6)) < expected_csd_digits(6, "fixed", WeightPrior(0.1))
