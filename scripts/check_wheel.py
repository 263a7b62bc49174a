"""Check the built distributions, then install the wheel into a fresh virtual environment.

``python scripts/check_wheel.py [dist]`` (``make check-dist``; ``make dist`` builds first) checks:

- the wheel's files: the package and its ``py.typed``, the license, and no tests;
- the wheel's metadata: the version of ``airflow_provider_bitcapital/__init__.py``, the license
  expression, the Airflow classifiers and the project URLs;
- the sdist's files: README, license and changelog, and no tests;
- in a new virtual environment where only the wheel (and Airflow, as its dependency) is
  installed: ``airflow providers list`` and ``airflow providers hooks`` show the provider and
  its ``bitcapital`` connection type, and the hook, operator, sensor and trigger import.

The new environment installs the versions of the current one (``pip freeze`` as constraints), so
that it resolves quickly and tests what the suite ran against; ``--no-constraints`` lets pip
resolve freshly instead. It exits with status 1 and says what is wrong if any check fails.
"""

from __future__ import annotations

import argparse
import ast
import email.parser
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import venv
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "airflow_provider_bitcapital"
DISTRIBUTION = "airflow-provider-bitcapital"
CONNECTION_TYPE = "bitcapital"
HOOK_CLASS = f"{PACKAGE}.hooks.bitcapital.BitcapitalHook"
CLASSIFIERS = ("Framework :: Apache Airflow", "Framework :: Apache Airflow :: Provider")
PROJECT_URLS = ("Documentation", "Source", "Changelog")
IMPORTS = (
    f"from {PACKAGE}.hooks.bitcapital import BitcapitalHook",
    f"from {PACKAGE}.operators.bitcapital import BitcapitalOperator",
    f"from {PACKAGE}.sensors.bitcapital import BitcapitalSensor",
    f"from {PACKAGE}.triggers.bitcapital import BitcapitalTrigger",
)
INSTALL_SECONDS = 900


class CheckFailed(Exception):
    """One check of the distributions failed; the message says which and why."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run every check and print one line per check.

    :param argv: the arguments, without the program name; ``None`` reads ``sys.argv``.
    :return: the exit status: 0 when every check passed.
    """
    arguments = parse_arguments(argv)
    try:
        wheel, sdist = find_distributions(arguments.dist)
        check_wheel_files(wheel)
        check_wheel_metadata(wheel)
        check_sdist_files(sdist)
        check_clean_install(wheel, constrained=arguments.constraints, keep=arguments.keep)
    except CheckFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    print("All distribution checks passed.")
    return 0


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description="Check the built wheel and sdist, and install the wheel.")
    parser.add_argument(
        "dist", nargs="?", type=Path, default=ROOT / "dist", help="folder of the distributions"
    )
    parser.add_argument(
        "--no-constraints",
        dest="constraints",
        action="store_false",
        help="let pip resolve the dependencies instead of pinning the current environment's versions",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the new virtual environment and print where"
    )
    return parser.parse_args(argv)


def find_distributions(folder: Path) -> tuple[Path, Path]:
    """Return the one wheel and the one sdist of ``folder``."""
    folder = folder.resolve()
    wheels = sorted(folder.glob("*.whl"))
    sdists = sorted(folder.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise CheckFailed(
            f"expected one wheel and one sdist in {folder}, found {[path.name for path in wheels + sdists]}; "
            "run `make dist`, which empties the folder and builds both"
        )
    return wheels[0], sdists[0]


def check_wheel_files(wheel: Path) -> None:
    """Check that the wheel holds the package with ``py.typed`` and the license, and no tests."""
    names = zipfile.ZipFile(wheel).namelist()
    expected = [f"{PACKAGE}/__init__.py", f"{PACKAGE}/py.typed", f"{PACKAGE}/hooks/bitcapital.py"]
    missing = [name for name in expected if name not in names]
    if missing:
        raise CheckFailed(f"{wheel.name} lacks {missing}")
    if not any(name.endswith(".dist-info/licenses/LICENSE") for name in names):
        raise CheckFailed(f"{wheel.name} does not ship the LICENSE file (license-files in pyproject.toml)")
    strays = [name for name in names if not name.startswith((f"{PACKAGE}/", f"{PACKAGE}-"))]
    tests = [name for name in names if "/tests/" in f"/{name}" or Path(name).name.startswith("test_")]
    if strays or tests:
        raise CheckFailed(f"{wheel.name} ships files that are not the package: {sorted(set(strays + tests))}")
    print(f"ok   {wheel.name}: {len(names)} files, py.typed and LICENSE included, no tests")


def check_wheel_metadata(wheel: Path) -> None:
    """Check the wheel's version, license, classifiers and project URLs."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata_name,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())

    problems = []
    version = source_version()
    if metadata["Name"] != DISTRIBUTION or metadata["Version"] != version:
        problems.append(
            f"name and version are {metadata['Name']} {metadata['Version']}, not {DISTRIBUTION} {version}"
        )
    if metadata["License-Expression"] != "Apache-2.0":
        problems.append(f"License-Expression is {metadata['License-Expression']!r}, not 'Apache-2.0'")
    classifiers = metadata.get_all("Classifier") or []
    problems += [
        f"classifier {classifier!r} is missing" for classifier in CLASSIFIERS if classifier not in classifiers
    ]
    urls = {entry.split(",", 1)[0].strip() for entry in metadata.get_all("Project-URL") or []}
    problems += [f"project URL {label!r} is missing" for label in PROJECT_URLS if label not in urls]
    if metadata["Description-Content-Type"] != "text/markdown" or not str(metadata.get_payload()).strip():
        problems.append("the README is not the long description (text/markdown)")
    if problems:
        raise CheckFailed(f"{wheel.name} metadata: " + "; ".join(problems))
    print(f"ok   metadata: {DISTRIBUTION} {version}, Apache-2.0, Airflow classifiers, URLs {sorted(urls)}")


def source_version() -> str:
    """Return ``__version__`` as written in the package source, without importing it."""
    tree = ast.parse((ROOT / PACKAGE / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__version__" for target in node.targets
        ):
            return str(ast.literal_eval(node.value))
    raise CheckFailed(f"{PACKAGE}/__init__.py does not assign __version__")


def check_sdist_files(sdist: Path) -> None:
    """Check that the sdist holds the README, license and changelog, and no tests."""
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    missing = [
        name for name in ("README.md", "LICENSE", "CHANGELOG.md", "pyproject.toml") if name not in names
    ]
    tests = [name for name in names if name.startswith("tests/")]
    if missing or tests:
        raise CheckFailed(f"{sdist.name}: missing {missing}, tests included {tests} (see MANIFEST.in)")
    print(f"ok   {sdist.name}: README, LICENSE and CHANGELOG included, no tests")


def check_clean_install(wheel: Path, *, constrained: bool, keep: bool) -> None:
    """Install the wheel into a new virtual environment and ask its Airflow about the provider."""
    workdir = Path(tempfile.mkdtemp(prefix="bitcapital-wheel-check-"))
    try:
        environment = workdir / "venv"
        venv.create(environment, with_pip=True)
        python = environment / "bin" / "python"
        started = time.monotonic()
        install = [str(python), "-m", "pip", "install", "--quiet", str(wheel)]
        if constrained:
            constraints = workdir / "constraints.txt"
            constraints.write_text(frozen_requirements())
            install += ["--constraint", str(constraints)]
        run(install, workdir, timeout=INSTALL_SECONDS, what="installing the wheel")
        seconds = time.monotonic() - started
        print(f"ok   installed {wheel.name} and its dependencies into a new venv in {seconds:.0f} s")

        env = {**clean_environment(), "AIRFLOW_HOME": str(workdir / "airflow-home")}
        check_providers_list(environment, workdir, env)
        check_providers_hooks(environment, workdir, env)
        check_imports(python, workdir, env)
    finally:
        if keep:
            print(f"kept the virtual environment: {workdir / 'venv'}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def frozen_requirements() -> str:
    """Return the current environment's packages as pip constraints, this project left out."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [line for line in frozen.splitlines() if not line.lower().startswith((DISTRIBUTION, PACKAGE))]
    return "\n".join(lines) + "\n"


def clean_environment() -> dict[str, str]:
    """Return this process's environment without Airflow settings or connections of its own."""
    return {
        name: value for name, value in os.environ.items() if not name.startswith(("AIRFLOW", "PYTHONPATH"))
    }


def check_providers_list(environment: Path, workdir: Path, env: dict[str, str]) -> None:
    """Check that ``airflow providers list`` shows the provider at the source's version."""
    providers = airflow_json(environment, ["providers", "list"], workdir, env)
    found = [provider for provider in providers if provider["package_name"] == DISTRIBUTION]
    if not found or found[0]["version"] != source_version():
        raise CheckFailed(f"`airflow providers list` shows {found or 'no'} {DISTRIBUTION}")
    print(f"ok   airflow providers list: {DISTRIBUTION} {found[0]['version']}")


def check_providers_hooks(environment: Path, workdir: Path, env: dict[str, str]) -> None:
    """Check that ``airflow providers hooks`` shows the ``bitcapital`` connection type."""
    hooks = airflow_json(environment, ["providers", "hooks"], workdir, env)
    found = [hook for hook in hooks if hook["connection_type"] == CONNECTION_TYPE]
    if not found or (found[0]["class"], found[0]["package_name"]) != (HOOK_CLASS, DISTRIBUTION):
        raise CheckFailed(
            f"`airflow providers hooks` shows {found or 'no'} {CONNECTION_TYPE!r} connection type"
        )
    print(f"ok   airflow providers hooks: connection type {CONNECTION_TYPE} -> {HOOK_CLASS}")


def check_imports(python: Path, workdir: Path, env: dict[str, str]) -> None:
    """Import the hook, operator, sensor and trigger from the installed wheel, not the source tree."""
    script = "; ".join([*IMPORTS, f"import {PACKAGE}", f"print({PACKAGE}.__file__)"])
    location = run([str(python), "-c", script], workdir, env=env, what="importing the operators").strip()
    if not location.startswith(str(workdir)):
        raise CheckFailed(f"{PACKAGE} was imported from {location}, not from the new environment")
    print("ok   BitcapitalHook, BitcapitalOperator, BitcapitalSensor and BitcapitalTrigger import")


def airflow_json(
    environment: Path, command: list[str], workdir: Path, env: dict[str, str]
) -> list[dict[str, str]]:
    """Run an ``airflow`` command with ``--output json`` and return the JSON list it prints."""
    output = run(
        [str(environment / "bin" / "airflow"), *command, "--output", "json"],
        workdir,
        env=env,
        what=f"airflow {' '.join(command)}",
    )
    listing = next((line for line in output.splitlines() if line.startswith("[")), None)
    if listing is None:
        raise CheckFailed(f"`airflow {' '.join(command)}` printed no JSON list:\n{output}")
    entries: list[dict[str, str]] = json.loads(listing)
    return entries


def run(
    command: list[str], workdir: Path, *, what: str, env: dict[str, str] | None = None, timeout: float = 300
) -> str:
    """Run ``command`` in ``workdir`` (away from the source tree) and return its standard output."""
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise CheckFailed(f"{what} failed with status {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


if __name__ == "__main__":
    sys.exit(main())
