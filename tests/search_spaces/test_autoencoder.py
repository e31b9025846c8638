"""The encoder/decoder family: mirrored widths, output as wide as the input."""

import optuna

from search_spaces import AutoencoderSpace, build_search_space

optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = {"family": "autoencoder", "depth": [1, 2], "width": [32, 16], "latent": [2, 4],
         "weight_bits": [8, 6, "ternary"], "reuse_factor": [1, 2, 4], "output": {"weight_bits": [8]}}


def test_samples_mirrored_autoencoders_with_conditional_layers():
    space = build_search_space(SPACE)
    assert isinstance(space, AutoencoderSpace) and space.task == "autoencoder"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    depths = set()
    for _ in range(30):
        trial = study.ask()
        spec = space.sample(trial, 20, 20)
        study.tell(trial, 0.0)
        params = study.trials[-1].params
        depth = params["depth"]
        depths.add(depth)
        names = [layer.name for layer in spec.layers]
        assert names == ([f"encoder_{k}" for k in range(depth)] + ["latent"]
                         + [f"decoder_{k}" for k in reversed(range(depth))] + ["output"])
        enc = [params[f"encoder_{k}/units"] for k in range(depth)]
        assert list(spec.widths) == [20, *enc, params["latent/units"], *reversed(enc), 20]
        assert spec.task == "autoencoder" and spec.layers[-1].activation is None
        assert spec.layers[-1].weight.bits == 8
        assert ("encoder_1/units" in params) == (depth > 1)
        assert ("decoder_1/weight_bits" in params) == (depth > 1)
    assert depths == {1, 2}
