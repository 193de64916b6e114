"""The reader: a small cross-encoder trained here that says whether a sentence answers a
question and which of its words are the answer (`model`), how its input is built (`encoding`),
the training examples (`examples`) and the training loop (`train`, needs the `train` extra).
"""
