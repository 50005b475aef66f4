"""Whether the real Docker daemon and the runtime image are here (the `runtime_image` fixture
asks, and skips or, under CI=true, fails without them)."""

from __future__ import annotations

RUNTIME = "python-3.11"


def docker_problem(image: str) -> str | None:
    """Why tests cannot run containers of `image`, or None when they can."""
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as exc:
        return f"no Docker daemon reachable ({' '.join(str(exc).split())[:200]})"
    try:
        client.images.get(image)
    except Exception:
        return f"runtime image {image} missing (make runtime-image)"
    finally:
        client.close()
    return None
