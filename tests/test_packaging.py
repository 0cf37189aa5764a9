"""Packaging: every data file the product reads ships in the installed package."""

from __future__ import annotations

import fnmatch
import tomllib

from tests.conftest import ROOT


def package_data() -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["setuptools"]["package-data"]


class TestPackageData:
    def test_every_data_file_is_declared(self):
        """Each non-Python file under bot/ and storage/ matches a package-data pattern, so
        `pip install .` (not only an editable install) carries it."""
        declared = package_data()
        missing = []
        for package in ("bot", "storage"):
            base = ROOT / package
            for path in base.rglob("*"):
                if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                    continue
                relative = path.relative_to(base).as_posix()
                if not any(fnmatch.fnmatch(relative, g) for g in declared.get(package, [])):
                    missing.append(f"{package}/{relative}")
        assert missing == [], f"add to [tool.setuptools.package-data]: {missing}"
