"""The shared validation helpers: one message shape, key paths, did-you-mean, no snapping."""

import pytest

from qnas.errors import ConfigError
from qnas.validation import (Field, Interval, OneOf, check_choices, check_keys, check_value, join_key,
                             validate_section)

WEIGHT_BITS = (Interval(int, 2, 16), OneOf(("ternary", "binary")))


def test_message_names_key_lists_allowed_and_echoes_value():
    with pytest.raises(ConfigError) as err:
        check_value(1, WEIGHT_BITS, "search_space.layers[2].weight_bits")
    assert err.value.path == "search_space.layers[2].weight_bits"
    assert str(err.value) == ("search_space.layers[2].weight_bits: must be an int in [2, 16], "
                              "'ternary' or 'binary'; got 1")


@pytest.mark.parametrize("value", [True, 6.0, "6", None, 17])
def test_int_interval_rejects_bools_floats_strings_and_out_of_range(value):
    with pytest.raises(ConfigError):
        check_value(value, (Interval(int, 2, 16),), "bits")


def test_accepted_values_are_returned_unchanged():
    assert check_value("ternary", WEIGHT_BITS, "k") == "ternary"
    assert check_value(16, WEIGHT_BITS, "k") == 16
    assert check_value(3, (Interval(float, 0, None, low_open=True),), "k") == 3


def test_open_lower_bound_rejects_the_bound_itself():
    with pytest.raises(ConfigError, match=r"must be a number in \(0, 1\]; got 0"):
        check_value(0, (Interval(float, 0, 1, low_open=True),), "lr")


def test_unknown_key_fails_with_did_you_mean_and_lists_valid_keys():
    with pytest.raises(ConfigError) as err:
        check_keys({"widht": [8]}, ["width", "depth"], "search_space")
    assert err.value.path == "search_space.widht"
    assert "did you mean 'width'?" in str(err.value)
    assert "depth, width" in str(err.value)


def test_missing_required_key_is_named():
    with pytest.raises(ConfigError, match=r"^search_space\.depth: is required"):
        check_keys({"width": [8]}, ["width", "depth"], "search_space", required=["depth"])


def test_choices_empty_duplicate_and_bad_item():
    with pytest.raises(ConfigError, match="must list at least one choice"):
        check_choices([], WEIGHT_BITS, "w")
    with pytest.raises(ConfigError, match="lists 8 twice"):
        check_choices([8, 8], WEIGHT_BITS, "w")
    with pytest.raises(ConfigError) as err:
        check_choices([8, "tern"], WEIGHT_BITS, "w")
    assert err.value.path == "w[1]"
    assert check_choices(6, WEIGHT_BITS, "w") == (6,)
    with pytest.raises(ConfigError, match="must be a list of choices"):
        check_choices(6, WEIGHT_BITS, "w", scalar_ok=False)


def test_validate_section_fills_defaults_and_parses():
    fields = {"a": Field((Interval(int, 0, 9),), 3), "b": Field((), None, parse=lambda v, p: v * 2)}
    assert validate_section({"b": 4}, fields, "sec") == {"a": 3, "b": 8}
    assert validate_section(None, fields, "sec") == {"a": 3, "b": None}
    with pytest.raises(ConfigError, match=r"^sec\.a: must be an int in \[0, 9\]; got 10"):
        validate_section({"a": 10}, fields, "sec")
    with pytest.raises(ConfigError, match=r"^sec: must be a mapping"):
        validate_section([1], fields, "sec")


def test_join_key():
    assert join_key("", "name") == "name"
    assert join_key("a", "b") == "a.b"
    assert join_key("a.layers", 2) == "a.layers[2]"
