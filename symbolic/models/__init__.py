"""Models over note-event tokens: the LSTM language model, the LSTM encoder-decoder and the
Kneser-Ney n-gram baseline. TensorFlow is imported only by `lstm.py` and `training.py`."""
