"""`rasa run`, started faster: what the supervisor runs as the Rasa server (in .venv-rasa).

Measured on 2 cores (README, "Supervision"): of Rasa's start-up, most goes to importing TensorFlow and to loading
the DIET classifier, and most of that load is TensorFlow tracing the training step of the one-example `fit` that
Rasa runs only to give the layers their shapes before it reads the trained weights over them. Here that `fit` runs
eagerly (nothing traced; the weights it makes are overwritten at once), while prediction keeps its traced graph,
warmed up as before during the load. TensorFlow Lite also imports JAX when JAX is installed (TensorFlow depends on
it) only for a converter Rasa never calls; that import is skipped. Training (`rasa train`) does not go through here.

Run: python -m bot.rasa_server run --model … (the arguments of `rasa`).
"""

from __future__ import annotations

import sys
from typing import Any


def fast_start() -> None:
    """Skip JAX's import and trace no graph for the load-time `fit`."""
    sys.modules.setdefault("jax", None)  # type: ignore[arg-type]  # `import jax` raises ImportError: TF copes
    import tensorflow as tf
    from rasa.utils.tensorflow.models import RasaModel

    fit = RasaModel.fit

    def fit_eagerly(self: RasaModel, *args: Any, **kwargs: Any) -> Any:
        tf.config.run_functions_eagerly(True)
        try:
            return fit(self, *args, **kwargs)
        finally:
            tf.config.run_functions_eagerly(False)

    RasaModel.fit = fit_eagerly


def main() -> None:
    fast_start()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
