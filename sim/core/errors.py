"""The one exception type for bad input: its message is a single line naming the key."""


class ConfigError(ValueError):
    """Bad configuration value; ``str(err)`` is ``"<key>: <problem>"`` on one line."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}")
