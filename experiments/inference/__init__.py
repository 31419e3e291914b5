"""Simulation-based inference: the assumptions calibrated to the historical episodes.

Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC, pyabc) on the batch
engine, one concept per module:

- :mod:`.assumptions` - the parameter vector (every assumption of the episodes'
  calibrations), its uniform priors over the calibrations' ranges, and how one draw becomes
  per-world overrides of each calibration;
- :mod:`.observations` - the summary statistics (the observed outcomes the model can
  produce) and the distance (Euclidean on statistics scaled by their prior-predictive spread);
- :mod:`.simulate` - the episodes' replays for many draws at once (one world per draw),
  as batches an executor can send to a Dask cluster;
- :mod:`.sampler` - a pyabc sampler that evaluates a whole wave of particles in one batch;
- :mod:`.fit` - one ABC-SMC fit and its posterior;
- :mod:`.predictive` - posterior-predictive intervals and whether history falls inside;
- :mod:`.headline` - the headline results (named scenarios, phase grid, tipping points)
  with parameters drawn from the posterior, the prior, or fixed at the calibration.

The command is :mod:`experiments.calibrate` (``make calibrate``); docs/inference.md.
"""
