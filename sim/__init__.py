"""balancing-sim: an agent-based model of Japan's strategic balancing between the US and China.

The library is importable without Hydra and without files on disk; configs are read only
when asked (`sim.calibration.load_calibration`, `sim.scenario.load_scenario`).
"""

__version__ = "0.1.0"
