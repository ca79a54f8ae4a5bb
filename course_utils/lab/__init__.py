"""Scripts of the discriminative-loss lab (lesson 7) that run outside the notebook.

* :mod:`course_utils.lab.train` -- train an embedding network with the discriminative loss on a
  synthetic instance dataset, on one device or with DistributedDataParallel under ``torchrun``.
"""
