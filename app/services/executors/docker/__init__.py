"""The Docker executor: every attempt in its own hardened, throw-away container."""
