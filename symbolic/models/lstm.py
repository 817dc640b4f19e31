"""The Keras definitions of the two LSTM models (training only; TensorFlow is imported here).

Layer names are the contract with `numpy_lstm.py`, which runs the same weights without
TensorFlow for sampling and scoring; a test checks that both give the same probabilities.

- lstm-lm: embedding -> `layers` stacked LSTMs -> dropout -> dense logits, over a whole tune.
- lstm-seq2seq: a shared embedding; an encoder LSTM stack reads the conditioning tokens (header
  and opening bars); a decoder LSTM stack starts from the encoder's final states (layer by layer)
  and reads the continuation (teacher forcing); optional dot-product attention of each decoder
  output over the encoder outputs, concatenated before the dense logits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symbolic.models.config import ModelConfig

EMBEDDING = "embedding"
LOGITS = "logits"
ATTENTION = "attention"


def lm_layer(i: int) -> str:
    return f"lstm_{i}"


def encoder_layer(i: int) -> str:
    return f"encoder_lstm_{i}"


def decoder_layer(i: int) -> str:
    return f"decoder_lstm_{i}"


def lstm_class(config: ModelConfig) -> Any:
    """keras.layers.LSTM, or with `config.project_inputs_once` our subclass of it (same weights)."""
    import keras

    return projected_lstm() if config.project_inputs_once else keras.layers.LSTM


_PROJECTED: list[Any] = []


def projected_lstm() -> Any:
    """An LSTM layer that multiplies all time steps' inputs by its kernel in one product before the
    recurrence, so that each step multiplies only the state by the recurrent kernel.

    Keras's CPU loop multiplies each step's inputs separately: twice the small products, op
    launches and gradient accumulations per step. The weights, gates (i, f, c, o), masking and
    outputs are Keras's own (the recurrence is Keras's backend.rnn), so the layer is a drop-in
    for keras.layers.LSTM; on a GPU it defers to it, for cuDNN. Registered with Keras so that
    checkpoints reload; made once, on first use, because Keras is imported lazily."""
    if _PROJECTED:
        return _PROJECTED[0]
    import keras
    import tensorflow as tf
    from keras import ops
    from keras.src import backend as keras_backend  # backend.rnn: the loop keras.layers.RNN runs

    @keras.saving.register_keras_serializable(package="symbolic")
    class ProjectedLSTM(keras.layers.LSTM):  # type: ignore[misc]
        def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
            cell = self.cell
            if cell.dropout or cell.recurrent_dropout or tf.config.list_logical_devices("GPU"):
                return super().inner_loop(sequences, initial_state, mask, training=training)
            if isinstance(mask, list | tuple):
                mask = mask[0]
            projected = ops.matmul(sequences, cell.kernel)
            if cell.use_bias:
                projected = projected + cell.bias

            def step(inputs: Any, states: Any) -> tuple[Any, list[Any]]:
                h, c = states
                z = inputs + ops.matmul(h, cell.recurrent_kernel)
                z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
                c = cell.recurrent_activation(z_f) * c + cell.recurrent_activation(z_i) * cell.activation(z_c)
                h = cell.recurrent_activation(z_o) * cell.activation(c)
                return h, [h, c]

            return keras_backend.rnn(step, projected, list(initial_state), go_backwards=self.go_backwards, mask=mask,
                                     unroll=self.unroll, input_length=sequences.shape[1],
                                     zero_output_for_mask=self.zero_output_for_mask,
                                     return_all_outputs=self.return_sequences)

    _PROJECTED.append(ProjectedLSTM)
    return ProjectedLSTM


def build_model(config: ModelConfig, vocab_size: int, *, training: bool = False) -> Any:
    """The Keras model for `config.arch` (lstm-lm or lstm-seq2seq), uncompiled.

    `training`: the model that `symbolic train` fits, in `config.precision`. With bfloat16 every
    layer gets Keras's mixed_bfloat16 policy (passed per layer, so no global policy changes):
    float32 variables, bfloat16 products. bfloat16 keeps float32's exponent range, so no loss
    scaling is needed (that is for float16). Other callers get float32 throughout."""
    dtype = "mixed_bfloat16" if training and config.precision == "bfloat16" else None
    if config.arch == "lstm-lm":
        return _build_lm(config, vocab_size, dtype)
    if config.arch == "lstm-seq2seq":
        return _build_seq2seq(config, vocab_size, dtype)
    raise ValueError(f"{config.arch} is not a Keras model")


def _build_lm(config: ModelConfig, vocab_size: int, dtype: str | None) -> Any:
    import keras

    lstm = lstm_class(config)
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, config.embedding, mask_zero=True, name=EMBEDDING, dtype=dtype)(tokens)
    for i in range(config.layers):
        x = lstm(config.units, return_sequences=True, name=lm_layer(i), dtype=dtype)(x)
        x = keras.layers.Dropout(config.dropout, dtype=dtype)(x)
    logits = keras.layers.Dense(vocab_size, name=LOGITS, dtype=dtype)(x)
    return keras.Model(tokens, logits, name="lstm_lm")


def _build_seq2seq(config: ModelConfig, vocab_size: int, dtype: str | None) -> Any:
    import keras

    lstm = lstm_class(config)
    encoder_tokens = keras.Input(shape=(None,), dtype="int32", name="encoder_tokens")
    decoder_tokens = keras.Input(shape=(None,), dtype="int32", name="decoder_tokens")
    embedding = keras.layers.Embedding(vocab_size, config.embedding, mask_zero=True, name=EMBEDDING, dtype=dtype)
    x = embedding(encoder_tokens)
    states = []
    for i in range(config.layers):
        x, h, c = lstm(config.units, return_sequences=True, return_state=True, name=encoder_layer(i), dtype=dtype)(x)
        states.append([h, c])
        x = keras.layers.Dropout(config.dropout, dtype=dtype)(x)
    encoder_outputs = x
    y = embedding(decoder_tokens)
    for i in range(config.layers):
        y = lstm(config.units, return_sequences=True, name=decoder_layer(i), dtype=dtype)(y, initial_state=states[i])
        y = keras.layers.Dropout(config.dropout, dtype=dtype)(y)
    if config.attention:
        context = keras.layers.Attention(name=ATTENTION, dtype=dtype)([y, encoder_outputs])
        y = keras.layers.Concatenate(dtype=dtype)([y, context])
    logits = keras.layers.Dense(vocab_size, name=LOGITS, dtype=dtype)(y)
    return keras.Model([encoder_tokens, decoder_tokens], logits, name="lstm_seq2seq")


def recurrent_layers(config: ModelConfig) -> list[str]:
    if config.arch == "lstm-lm":
        return [lm_layer(i) for i in range(config.layers)]
    return [encoder_layer(i) for i in range(config.layers)] + [decoder_layer(i) for i in range(config.layers)]


def export_weights(model: Any, config: ModelConfig) -> dict[str, Any]:
    """The trained weights as named NumPy arrays, the form the model file stores: float32, whatever
    the training precision (mixed policies keep float32 variables; the cast makes sure)."""
    weights = {}
    embedding = model.get_layer(EMBEDDING).get_weights()[0]
    weights[f"{EMBEDDING}/embeddings"] = embedding
    for name in recurrent_layers(config):
        kernel, recurrent, bias = model.get_layer(name).get_weights()
        weights[f"{name}/kernel"], weights[f"{name}/recurrent_kernel"], weights[f"{name}/bias"] = kernel, recurrent, bias
    kernel, bias = model.get_layer(LOGITS).get_weights()
    weights[f"{LOGITS}/kernel"], weights[f"{LOGITS}/bias"] = kernel, bias
    return {name: np.asarray(array, dtype=np.float32) for name, array in weights.items()}


def import_weights(model: Any, config: ModelConfig, weights: dict[str, Any]) -> None:
    """Set a built Keras model's weights from a model file's arrays (export_weights's inverse)."""
    model.get_layer(EMBEDDING).set_weights([weights[f"{EMBEDDING}/embeddings"]])
    for name in recurrent_layers(config):
        model.get_layer(name).set_weights([weights[f"{name}/{part}"] for part in ("kernel", "recurrent_kernel", "bias")])
    model.get_layer(LOGITS).set_weights([weights[f"{LOGITS}/kernel"], weights[f"{LOGITS}/bias"]])
