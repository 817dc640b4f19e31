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


def build_model(config: ModelConfig, vocab_size: int) -> Any:
    """The Keras model for `config.arch` (lstm-lm or lstm-seq2seq), uncompiled."""
    if config.arch == "lstm-lm":
        return _build_lm(config, vocab_size)
    if config.arch == "lstm-seq2seq":
        return _build_seq2seq(config, vocab_size)
    raise ValueError(f"{config.arch} is not a Keras model")


def _build_lm(config: ModelConfig, vocab_size: int) -> Any:
    import keras

    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, config.embedding, mask_zero=True, name=EMBEDDING)(tokens)
    for i in range(config.layers):
        x = keras.layers.LSTM(config.units, return_sequences=True, name=lm_layer(i))(x)
        x = keras.layers.Dropout(config.dropout)(x)
    logits = keras.layers.Dense(vocab_size, name=LOGITS)(x)
    return keras.Model(tokens, logits, name="lstm_lm")


def _build_seq2seq(config: ModelConfig, vocab_size: int) -> Any:
    import keras

    encoder_tokens = keras.Input(shape=(None,), dtype="int32", name="encoder_tokens")
    decoder_tokens = keras.Input(shape=(None,), dtype="int32", name="decoder_tokens")
    embedding = keras.layers.Embedding(vocab_size, config.embedding, mask_zero=True, name=EMBEDDING)
    x = embedding(encoder_tokens)
    states = []
    for i in range(config.layers):
        x, h, c = keras.layers.LSTM(config.units, return_sequences=True, return_state=True, name=encoder_layer(i))(x)
        states.append([h, c])
        x = keras.layers.Dropout(config.dropout)(x)
    encoder_outputs = x
    y = embedding(decoder_tokens)
    for i in range(config.layers):
        y = keras.layers.LSTM(config.units, return_sequences=True, name=decoder_layer(i))(y, initial_state=states[i])
        y = keras.layers.Dropout(config.dropout)(y)
    if config.attention:
        context = keras.layers.Attention(name=ATTENTION)([y, encoder_outputs])
        y = keras.layers.Concatenate()([y, context])
    logits = keras.layers.Dense(vocab_size, name=LOGITS)(y)
    return keras.Model([encoder_tokens, decoder_tokens], logits, name="lstm_seq2seq")


def export_weights(model: Any, config: ModelConfig) -> dict[str, Any]:
    """The trained weights as named NumPy arrays, the form the model file stores."""
    weights = {}
    embedding = model.get_layer(EMBEDDING).get_weights()[0]
    weights[f"{EMBEDDING}/embeddings"] = embedding
    names = ([lm_layer(i) for i in range(config.layers)] if config.arch == "lstm-lm"
             else [encoder_layer(i) for i in range(config.layers)] + [decoder_layer(i) for i in range(config.layers)])
    for name in names:
        kernel, recurrent, bias = model.get_layer(name).get_weights()
        weights[f"{name}/kernel"], weights[f"{name}/recurrent_kernel"], weights[f"{name}/bias"] = kernel, recurrent, bias
    kernel, bias = model.get_layer(LOGITS).get_weights()
    weights[f"{LOGITS}/kernel"], weights[f"{LOGITS}/bias"] = kernel, bias
    return weights
