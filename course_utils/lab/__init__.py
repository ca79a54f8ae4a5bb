"""Scripts of the discriminative-loss lab (lesson 7) that run outside the notebook.

* :mod:`course_utils.lab.multires` -- lesson 7's multi-resolution embedding network and its per-level
  loss (the lesson writes the same network out and checks it against this one);
* :mod:`course_utils.lab.train` -- the paper's configuration (``EmbeddingNet``: an unbounded 8-D
  full-resolution embedding) and its trainer on a synthetic instance dataset, on one device or
  with DistributedDataParallel under ``torchrun``; lesson 7 trains it as its second learned row;
* :mod:`course_utils.lab.owndata` -- the lab on your own images and instance masks (any size,
  grayscale or RGB, uint8/uint16/float): checked inputs, training on tiles, whole-image or tiled
  inference, scores.
"""
