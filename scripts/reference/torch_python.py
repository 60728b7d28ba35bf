"""Finds a Python interpreter that can import torch, without importing torch itself.

Order: $RT_TORCH_PYTHON, then <repo>/.venv-torch/bin/python (what
scripts/reference/setup_torch.sh creates; $RT_TORCH_VENV overrides the
folder), then the same folder in the main checkout when this is a git
worktree, then the interpreter running this code.

Entry-point scripts call ensure_torch() first: when the running interpreter
lacks torch but one of the others has it, the script re-executes itself there,
so `python3 scripts/reference/golden.py ...` works from any shell.
"""

import os
import subprocess
import sys

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_REEXEC_GUARD = "RT_TORCH_PYTHON_REEXEC"


def candidates():
    found = []
    if os.environ.get("RT_TORCH_PYTHON"):
        found.append(os.environ["RT_TORCH_PYTHON"])
    venv = os.environ.get("RT_TORCH_VENV", ".venv-torch")
    found.append(os.path.join(venv if os.path.isabs(venv) else os.path.join(REPO_ROOT, venv), "bin", "python"))
    # In a git worktree, the venv usually lives in the main checkout.
    try:
        common = subprocess.run(["git", "-C", REPO_ROOT, "rev-parse", "--path-format=absolute", "--git-common-dir"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        if common and not os.path.isabs(venv):
            found.append(os.path.join(os.path.dirname(common), venv, "bin", "python"))
    except (OSError, subprocess.TimeoutExpired):
        pass
    found.append(sys.executable)
    return found


def _imports_torch(python):
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        return False
    try:
        return subprocess.run([python, "-c", "import torch"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def find():
    """Path of the first candidate interpreter that imports torch, or None."""
    for python in candidates():
        if _imports_torch(python):
            return python
    return None


def ensure_torch():
    """Returns if torch imports here; otherwise re-executes the script where it does, or exits 3."""
    try:
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    if not os.environ.get(_REEXEC_GUARD):
        python = find()
        # Compare unresolved paths: a venv python is a symlink to the base interpreter.
        if python and os.path.abspath(python) != os.path.abspath(sys.executable):
            os.environ[_REEXEC_GUARD] = "1"
            os.execv(python, [python] + sys.argv)
    sys.stderr.write("PyTorch is not importable: set RT_TORCH_PYTHON, or run scripts/reference/setup_torch.sh "
                     f"(tried: {', '.join(candidates())})\n")
    sys.exit(3)


if __name__ == "__main__":
    python = find()
    if python is None:
        sys.exit(1)
    print(python)


def import_torchattacks():
    """The torchattacks module, or exit 3 saying how to get it (the Swift tests skip on 3)."""
    try:
        import torchattacks
        return torchattacks
    except ImportError:
        sys.stderr.write("torchattacks is not importable: run scripts/reference/setup_torch.sh\n")
        sys.exit(3)
